import { refuse } from '../shared/errors';
import { assertWholeVnd } from '../shared/money';
import { CategoryCap, DEFAULT_ADVANCE_SHARE, DEFAULT_CAPS } from '../shared/regulations';
import { Category, CATEGORIES, FundingSource, Targets } from '../shared/vocabulary';

/**
 * A programme: one plan year's budget per support category, its caps and targets, and the
 * ledger of what approvals have committed. The programme stream is where invariant 3 is
 * kept: a commitment is only appended against the stream revision it was decided on, so
 * concurrent approvals can never together exceed an allocation.
 */

export const programmeStream = (programmeId: string) => `programme-${programmeId}`;

// ── Events ────────────────────────────────────────────────────────────────────────────

export type ProgrammeOpened = {
  type: 'ProgrammeOpened';
  data: {
    programmeId: string;
    name: string;
    year: number;
    fundingSource: FundingSource;
    caps: Record<Category, CategoryCap>;
    advanceShare: number;
  };
};
export type BudgetAllocated = { type: 'BudgetAllocated'; data: { programmeId: string; category: Category; amount: number } };
export type TargetsSet = { type: 'TargetsSet'; data: { programmeId: string; targets: Targets } };
/** The committee's decision, kept with the commitment so a reconciliation pass can finish an interrupted approval. */
export type ApprovalDecision = { decisionNumber: string; decisionDate: string; approvedAmount: number; approvedBy: string };
export type BudgetCommitted = {
  type: 'BudgetCommitted';
  data: { programmeId: string; applicationId: string; category: Category; amount: number; decision: ApprovalDecision };
};
export type BudgetReleased = {
  type: 'BudgetReleased';
  data: { programmeId: string; applicationId: string; category: Category; amount: number; reason: string };
};

export type ProgrammeEvent = ProgrammeOpened | BudgetAllocated | TargetsSet | BudgetCommitted | BudgetReleased;

// ── State ─────────────────────────────────────────────────────────────────────────────

export type Commitment = { category: Category; committed: number; released: number; decision: ApprovalDecision };

export type OpenProgramme = {
  status: 'open';
  id: string;
  name: string;
  year: number;
  fundingSource: FundingSource;
  caps: Record<Category, CategoryCap>;
  advanceShare: number;
  allocations: Partial<Record<Category, number>>;
  targets: Targets;
  /** By application id. */
  commitments: Record<string, Commitment>;
};

export type ProgrammeState = { status: 'none' } | OpenProgramme;

export const initialProgrammeState = (): ProgrammeState => ({ status: 'none' });

export const outstanding = (commitment: Commitment) => commitment.committed - commitment.released;

export function committedIn(state: OpenProgramme, category: Category): number {
  return Object.values(state.commitments)
    .filter((c) => c.category === category)
    .reduce((sum, c) => sum + outstanding(c), 0);
}

export function availableIn(state: OpenProgramme, category: Category): number {
  return (state.allocations[category] ?? 0) - committedIn(state, category);
}

export function evolveProgramme(state: ProgrammeState, event: ProgrammeEvent): ProgrammeState {
  switch (event.type) {
    case 'ProgrammeOpened':
      return {
        status: 'open',
        id: event.data.programmeId,
        name: event.data.name,
        year: event.data.year,
        fundingSource: event.data.fundingSource,
        caps: event.data.caps,
        advanceShare: event.data.advanceShare,
        allocations: {},
        targets: {},
        commitments: {},
      };
  }
  if (state.status !== 'open') return state;
  switch (event.type) {
    case 'BudgetAllocated':
      return { ...state, allocations: { ...state.allocations, [event.data.category]: event.data.amount } };
    case 'TargetsSet':
      return { ...state, targets: event.data.targets };
    case 'BudgetCommitted':
    case 'BudgetReleased': {
      const commitment = commitmentAfter(state.commitments[event.data.applicationId], event);
      if (!commitment) return state;
      return { ...state, commitments: { ...state.commitments, [event.data.applicationId]: commitment } };
    }
  }
}

function commitmentAfter(previous: Commitment | undefined, event: BudgetCommitted | BudgetReleased): Commitment | undefined {
  if (event.type === 'BudgetCommitted') {
    return {
      category: event.data.category,
      committed: (previous?.committed ?? 0) + event.data.amount,
      released: previous?.released ?? 0,
      decision: event.data.decision,
    };
  }
  return previous && { ...previous, released: previous.released + event.data.amount };
}

/**
 * What `events.reduce(evolveProgramme, state)` gives, in time linear in the events: the
 * commitments go into one record made for this fold, where `evolveProgramme` copies the
 * record for every commitment and release (quadratic over a plan year of approvals). No
 * state the caller holds shares that record, so states stay immutable to every caller.
 */
export function foldProgramme(state: ProgrammeState, events: Iterable<ProgrammeEvent>): ProgrammeState {
  let current = state;
  let ours: Record<string, Commitment> | undefined;
  for (const event of events) {
    if ((event.type !== 'BudgetCommitted' && event.type !== 'BudgetReleased') || current.status !== 'open') {
      current = evolveProgramme(current, event);
      continue;
    }
    const commitment = commitmentAfter(current.commitments[event.data.applicationId], event);
    if (!commitment) continue;
    if (current.commitments !== ours) ours = { ...current.commitments };
    ours[event.data.applicationId] = commitment;
    current = { ...current, commitments: ours };
  }
  return current;
}

/** As APPLICATION_FOLD_VERSION: bump it whenever `evolveProgramme` gives any event another meaning. */
export const PROGRAMME_FOLD_VERSION = 1;

// ── Commands ──────────────────────────────────────────────────────────────────────────

export type OpenProgrammeCommand = {
  type: 'OpenProgramme';
  data: {
    programmeId: string;
    name: string;
    year: number;
    fundingSource: FundingSource;
    allocations: Partial<Record<Category, number>>;
    caps?: Partial<Record<Category, Partial<CategoryCap>>>;
    advanceShare?: number;
    targets?: Targets;
  };
};
export type AllocateBudgetCommand = { type: 'AllocateBudget'; data: { category: Category; amount: number } };
export type SetTargetsCommand = { type: 'SetTargets'; data: { targets: Targets } };
export type CommitBudgetCommand = {
  type: 'CommitBudget';
  data: { applicationId: string; category: Category; amount: number; decision: ApprovalDecision };
};
export type ReleaseBudgetCommand = {
  type: 'ReleaseBudget';
  /** Release until what stays committed for the application is `keep` (e.g. what was paid). */
  data: { applicationId: string; keep: number; reason: string };
};

export type ProgrammeCommand =
  | OpenProgrammeCommand
  | AllocateBudgetCommand
  | SetTargetsCommand
  | CommitBudgetCommand
  | ReleaseBudgetCommand;

export function decideProgramme(command: ProgrammeCommand, state: ProgrammeState): ProgrammeEvent[] {
  switch (command.type) {
    case 'OpenProgramme':
      return open(command, state);
    case 'AllocateBudget':
      return allocate(command, mustBeOpen(state));
    case 'SetTargets':
      return [{ type: 'TargetsSet', data: { programmeId: mustBeOpen(state).id, targets: validTargets(command.data.targets) } }];
    case 'CommitBudget':
      return commit(command, mustBeOpen(state));
    case 'ReleaseBudget':
      return release(command, mustBeOpen(state));
    default: {
      const unknown: never = command;
      throw refuse.input(`Unknown programme command ${JSON.stringify(unknown)}`);
    }
  }
}

function mustBeOpen(state: ProgrammeState): OpenProgramme {
  if (state.status !== 'open') throw refuse.notFound('Programme not found');
  return state;
}

function open({ data }: OpenProgrammeCommand, state: ProgrammeState): ProgrammeEvent[] {
  if (state.status !== 'none') throw refuse.transition(`Programme ${data.programmeId} already exists`);
  const advanceShare = data.advanceShare ?? DEFAULT_ADVANCE_SHARE;
  if (!(advanceShare >= 0 && advanceShare <= 1)) throw refuse.input('advanceShare must be between 0 and 1');
  const caps = { ...DEFAULT_CAPS };
  for (const [category, override] of Object.entries(data.caps ?? {}) as [Category, Partial<CategoryCap>][]) {
    const cap = { ...DEFAULT_CAPS[category], ...override };
    if (!(cap.maxShareOfCost > 0 && cap.maxShareOfCost <= 1)) {
      throw refuse.input(`caps.${category}.maxShareOfCost must be greater than 0 and at most 1`);
    }
    if (cap.maxAmount !== null) assertWholeVnd(cap.maxAmount, `caps.${category}.maxAmount`);
    caps[category] = cap;
  }
  const events: ProgrammeEvent[] = [
    {
      type: 'ProgrammeOpened',
      data: { programmeId: data.programmeId, name: data.name, year: data.year, fundingSource: data.fundingSource, caps, advanceShare },
    },
  ];
  for (const category of CATEGORIES) {
    const amount = data.allocations[category];
    if (amount === undefined) continue;
    assertWholeVnd(amount, `allocations.${category}`);
    events.push({ type: 'BudgetAllocated', data: { programmeId: data.programmeId, category, amount } });
  }
  if (data.targets && Object.keys(data.targets).length > 0) {
    events.push({ type: 'TargetsSet', data: { programmeId: data.programmeId, targets: validTargets(data.targets) } });
  }
  return events;
}

function validTargets(targets: Targets): Targets {
  for (const [indicator, range] of Object.entries(targets)) {
    if (!range || range.min > range.max) throw refuse.input(`targets.${indicator}: min must not exceed max`);
  }
  return targets;
}

function allocate({ data }: AllocateBudgetCommand, state: OpenProgramme): ProgrammeEvent[] {
  assertWholeVnd(data.amount, 'amount');
  const committed = committedIn(state, data.category);
  if (data.amount < committed) {
    throw refuse.rule(
      `Cannot allocate ${data.amount} VND to ${data.category}: ${committed} VND is already committed by approvals`,
    );
  }
  return [{ type: 'BudgetAllocated', data: { programmeId: state.id, category: data.category, amount: data.amount } }];
}

function commit({ data }: CommitBudgetCommand, state: OpenProgramme): ProgrammeEvent[] {
  assertWholeVnd(data.amount, 'amount');
  const existing = state.commitments[data.applicationId];
  if (existing && outstanding(existing) > 0) {
    // A retried approval (after a crash or a lost answer) finds its commitment in place.
    if (outstanding(existing) === data.amount && existing.decision.decisionNumber === data.decision.decisionNumber) return [];
    throw refuse.rule(`Budget is already committed for application ${data.applicationId} under another decision`);
  }
  const available = availableIn(state, data.category);
  if (data.amount > available) {
    throw refuse.rule(
      `Budget exhausted: ${data.category} has ${available} VND available in programme ${state.id}, the approval needs ${data.amount} VND`,
    );
  }
  return [
    {
      type: 'BudgetCommitted',
      data: { programmeId: state.id, applicationId: data.applicationId, category: data.category, amount: data.amount, decision: data.decision },
    },
  ];
}

function release({ data }: ReleaseBudgetCommand, state: OpenProgramme): ProgrammeEvent[] {
  const commitment = state.commitments[data.applicationId];
  if (!commitment) return [];
  const amount = outstanding(commitment) - data.keep;
  if (amount <= 0) return [];
  return [
    {
      type: 'BudgetReleased',
      data: { programmeId: state.id, applicationId: data.applicationId, category: commitment.category, amount, reason: data.reason },
    },
  ];
}
