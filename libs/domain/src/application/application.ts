import { CommandActor } from '../shared/actor';
import { refuse } from '../shared/errors';
import { assertWholeVnd, shareOf } from '../shared/money';
import { CategoryCap } from '../shared/regulations';
import { ApplicantKind, Category, IndicatorValues, Rating, Recommendation } from '../shared/vocabulary';

/**
 * One application for support, from submission to closure (DESIGN.md, "Lifecycle").
 * `decideApplication` refuses every step the lifecycle or the money rules do not allow
 * (invariants 1, 2 and 4); `evolveApplication` folds the events into the current state.
 */

export const applicationStream = (applicationId: string) => `application-${applicationId}`;

// ── Shared shapes ─────────────────────────────────────────────────────────────────────

export type Applicant = {
  name: string;
  taxCode: string;
  kind: ApplicantKind;
  district: string;
  commune: string;
  craftVillage?: string;
};

export type Project = {
  title: string;
  description: string;
  totalCost: number;
  requestedAmount: number;
  expectedOutcomes: IndicatorValues;
};

export type Priority = { womenLed?: boolean; ethnicMinority?: boolean };

/** What the application needs to know of its programme, looked up by the handler. */
export type ProgrammeTerms = {
  programmeId: string;
  category: Category;
  cap: CategoryCap;
  advanceShare: number;
  /** Whether the programme allocates any budget to the category. */
  categoryFunded: boolean;
};

// ── Events ────────────────────────────────────────────────────────────────────────────

export type ApplicationSubmitted = {
  type: 'ApplicationSubmitted';
  data: { applicationId: string; programmeId: string; category: Category; ownerId: string; applicant: Applicant; project: Project; cap: CategoryCap };
};
export type RevisionRequested = { type: 'RevisionRequested'; data: { reason: string; reviewerId: string } };
export type ApplicationAmended = { type: 'ApplicationAmended'; data: { project: Project } };
export type ApplicationReviewed = {
  type: 'ApplicationReviewed';
  data: { score: number; recommendation: Recommendation; recommendedAmount?: number; notes?: string; priority?: Priority; reviewerId: string };
};
export type ApplicationApproved = {
  type: 'ApplicationApproved';
  data: { decisionNumber: string; decisionDate: string; approvedAmount: number; advanceShare: number; approvedBy: string };
};
export type ApplicationRejected = { type: 'ApplicationRejected'; data: { reason: string; decisionNumber?: string; rejectedBy: string } };
export type ApplicationWithdrawn = { type: 'ApplicationWithdrawn'; data: { reason: string } };
export type FundsDisbursed = { type: 'FundsDisbursed'; data: { paymentRef: string; amount: number; paidAt: string } };
export type OutcomeEvaluated = {
  type: 'OutcomeEvaluated';
  data: { outcomes: IndicatorValues; rating: Rating; notes?: string; evaluatorId: string };
};
export type ApplicationClosed = { type: 'ApplicationClosed'; data: { reason?: string } };
export type ReviewerRecused = { type: 'ReviewerRecused'; data: { reviewerId: string; reason: string } };

export type ApplicationEvent =
  | ApplicationSubmitted
  | RevisionRequested
  | ApplicationAmended
  | ApplicationReviewed
  | ApplicationApproved
  | ApplicationRejected
  | ApplicationWithdrawn
  | FundsDisbursed
  | OutcomeEvaluated
  | ApplicationClosed
  | ReviewerRecused;

// ── State ─────────────────────────────────────────────────────────────────────────────

export const APPLICATION_STATUSES = [
  'submitted',
  'revision_requested',
  'reviewed',
  'approved',
  'evaluated',
  'closed',
  'rejected',
  'withdrawn',
] as const;
export type ApplicationStatus = (typeof APPLICATION_STATUSES)[number];
export type PaymentStatus = 'none' | 'partial' | 'full';

export type Disbursement = FundsDisbursed['data'];

export type Application = {
  status: ApplicationStatus;
  id: string;
  programmeId: string;
  category: Category;
  ownerId: string;
  applicant: Applicant;
  project: Project;
  cap: CategoryCap;
  revisionRequest: RevisionRequested['data'] | null;
  review: ApplicationReviewed['data'] | null;
  decision:
    | ({ outcome: 'approved' } & ApplicationApproved['data'])
    | ({ outcome: 'rejected' } & ApplicationRejected['data'])
    | null;
  approvedAmount: number | null;
  advanceShare: number | null;
  paymentStatus: PaymentStatus;
  disbursedAmount: number;
  disbursements: Disbursement[];
  evaluation: OutcomeEvaluated['data'] | null;
  withdrawal: ApplicationWithdrawn['data'] | null;
  closure: ApplicationClosed['data'] | null;
  recusals: ReviewerRecused['data'][];
};

export type ApplicationState = { status: 'none' } | Application;

export const initialApplicationState = (): ApplicationState => ({ status: 'none' });

function paymentStatusOf(disbursed: number, approved: number | null): PaymentStatus {
  if (disbursed === 0) return 'none';
  return approved !== null && disbursed >= approved ? 'full' : 'partial';
}

export function evolveApplication(state: ApplicationState, event: ApplicationEvent): ApplicationState {
  if (event.type === 'ApplicationSubmitted') {
    const { applicationId, ...rest } = event.data;
    return {
      status: 'submitted',
      id: applicationId,
      ...rest,
      revisionRequest: null,
      review: null,
      decision: null,
      approvedAmount: null,
      advanceShare: null,
      paymentStatus: 'none',
      disbursedAmount: 0,
      disbursements: [],
      evaluation: null,
      withdrawal: null,
      closure: null,
      recusals: [],
    };
  }
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'RevisionRequested':
      return { ...state, status: 'revision_requested', revisionRequest: event.data };
    case 'ApplicationAmended':
      return { ...state, status: 'submitted', project: event.data.project };
    case 'ApplicationReviewed':
      return { ...state, status: 'reviewed', review: event.data };
    case 'ApplicationApproved':
      return {
        ...state,
        status: 'approved',
        decision: { outcome: 'approved', ...event.data },
        approvedAmount: event.data.approvedAmount,
        advanceShare: event.data.advanceShare,
      };
    case 'ApplicationRejected':
      return { ...state, status: 'rejected', decision: { outcome: 'rejected', ...event.data } };
    case 'ApplicationWithdrawn':
      return { ...state, status: 'withdrawn', withdrawal: event.data };
    case 'FundsDisbursed':
      return paid(state, event.data, [...state.disbursements, event.data]);
    case 'OutcomeEvaluated':
      return { ...state, status: 'evaluated', evaluation: event.data };
    case 'ApplicationClosed':
      return { ...state, status: 'closed', closure: event.data };
    case 'ReviewerRecused':
      return { ...state, recusals: [...state.recusals, event.data] };
  }
}

/** The state after a payment, given the list of payments that already includes it. */
function paid(state: Application, payment: Disbursement, disbursements: Disbursement[]): Application {
  const disbursedAmount = state.disbursedAmount + payment.amount;
  return { ...state, disbursedAmount, disbursements, paymentStatus: paymentStatusOf(disbursedAmount, state.approvedAmount) };
}

/**
 * What `events.reduce(evolveApplication, state)` gives, in time linear in the events: the
 * payments go into one list made for this fold, where `evolveApplication` copies the list for
 * every payment (quadratic on a stream of thousands of tranches). No state the caller holds
 * shares that list, so states stay immutable to every caller.
 */
export function foldApplication(state: ApplicationState, events: Iterable<ApplicationEvent>): ApplicationState {
  let current = state;
  let ours: Disbursement[] | undefined;
  for (const event of events) {
    if (event.type !== 'FundsDisbursed' || current.status === 'none') {
      current = evolveApplication(current, event);
      continue;
    }
    if (current.disbursements !== ours) ours = [...current.disbursements];
    ours.push(event.data);
    current = paid(current, event.data, ours);
  }
  return current;
}

/**
 * Version of what the fold makes of the events. Saved states (snapshots) carry it and are
 * ignored once it changes: bump it whenever `evolveApplication` gives any event another meaning.
 */
export const APPLICATION_FOLD_VERSION = 1;

// ── Commands ──────────────────────────────────────────────────────────────────────────

type Command<Type extends string, Data> = { type: Type; actor: CommandActor; data: Data };

export type SubmitApplication = Command<
  'SubmitApplication',
  { applicationId: string; applicant: Applicant; project: Project; programme: ProgrammeTerms }
>;
export type RequestRevision = Command<'RequestRevision', { reason: string }>;
export type AmendApplication = Command<'AmendApplication', { project: Project }>;
export type ReviewApplication = Command<
  'ReviewApplication',
  { score: number; recommendation: Recommendation; recommendedAmount?: number; notes?: string; priority?: Priority }
>;
export type ApproveApplication = Command<
  'ApproveApplication',
  { decisionNumber: string; decisionDate: string; approvedAmount: number; advanceShare: number }
>;
export type RejectApplication = Command<'RejectApplication', { reason: string; decisionNumber?: string }>;
export type WithdrawApplication = Command<'WithdrawApplication', { reason: string }>;
export type DisburseFunds = Command<'DisburseFunds', { paymentRef: string; amount: number; paidAt: string }>;
export type EvaluateOutcome = Command<'EvaluateOutcome', { outcomes: IndicatorValues; rating: Rating; notes?: string }>;
export type CloseApplication = Command<'CloseApplication', { reason?: string }>;
export type RecuseReviewer = Command<'RecuseReviewer', { reason: string }>;

export type ApplicationCommand =
  | SubmitApplication
  | RequestRevision
  | AmendApplication
  | ReviewApplication
  | ApproveApplication
  | RejectApplication
  | WithdrawApplication
  | DisburseFunds
  | EvaluateOutcome
  | CloseApplication
  | RecuseReviewer;

export function decideApplication(command: ApplicationCommand, state: ApplicationState): ApplicationEvent[] {
  if (command.type === 'SubmitApplication') return submit(command, state);
  if (state.status === 'none') throw refuse.notFound('Application not found');
  switch (command.type) {
    case 'RequestRevision':
      notRecused(state, command.actor);
      inStatus(state, ['submitted', 'reviewed'], 'request a revision of');
      return [{ type: 'RevisionRequested', data: { reason: command.data.reason, reviewerId: command.actor.id } }];
    case 'AmendApplication':
      ownedBy(state, command.actor);
      inStatus(state, ['revision_requested'], 'amend');
      return [{ type: 'ApplicationAmended', data: { project: validProject(command.data.project, state.cap) } }];
    case 'ReviewApplication':
      return review(command, state);
    case 'ApproveApplication':
      return approve(command, state);
    case 'RejectApplication':
      notRecused(state, command.actor);
      inStatus(state, ['reviewed'], 'reject');
      return [{ type: 'ApplicationRejected', data: { ...command.data, rejectedBy: command.actor.id } }];
    case 'WithdrawApplication':
      ownedBy(state, command.actor);
      inStatus(state, ['submitted', 'revision_requested', 'reviewed'], 'withdraw');
      return [{ type: 'ApplicationWithdrawn', data: { reason: command.data.reason } }];
    case 'DisburseFunds':
      return disburse(command, state);
    case 'EvaluateOutcome':
      notRecused(state, command.actor);
      inStatus(state, ['approved'], 'evaluate');
      return [{ type: 'OutcomeEvaluated', data: { ...command.data, evaluatorId: command.actor.id } }];
    case 'CloseApplication':
      inStatus(state, ['evaluated'], 'close');
      return [{ type: 'ApplicationClosed', data: command.data }];
    case 'RecuseReviewer':
      if (state.recusals.some((r) => r.reviewerId === command.actor.id)) return [];
      inStatus(state, ['submitted', 'revision_requested', 'reviewed', 'approved'], 'recuse from');
      return [{ type: 'ReviewerRecused', data: { reviewerId: command.actor.id, reason: command.data.reason } }];
    default: {
      const unknown: never = command;
      throw refuse.input(`Unknown application command ${JSON.stringify(unknown)}`);
    }
  }
}

function inStatus(state: Application, allowed: ApplicationStatus[], action: string): void {
  if (!allowed.includes(state.status)) {
    throw refuse.transition(
      `Cannot ${action} an application that is ${state.status.replace('_', ' ')} (allowed when ${allowed.join(' or ')})`,
    );
  }
}

function ownedBy(state: Application, actor: CommandActor): void {
  if (state.ownerId !== actor.id) throw refuse.forbidden('This application belongs to another applicant');
}

function notRecused(state: Application, actor: CommandActor): void {
  const recusal = state.recusals.find((r) => r.reviewerId === actor.id);
  if (recusal) throw refuse.forbidden(`You recused yourself from this application (conflict of interest: ${recusal.reason})`);
}

/** The most the category's cap allows for a project of this cost. */
export function capFor(project: Pick<Project, 'totalCost'>, cap: CategoryCap): number {
  const byShare = shareOf(project.totalCost, cap.maxShareOfCost);
  return cap.maxAmount === null ? byShare : Math.min(byShare, cap.maxAmount);
}

function validProject(project: Project, cap: CategoryCap): Project {
  assertWholeVnd(project.totalCost, 'project.totalCost');
  assertWholeVnd(project.requestedAmount, 'project.requestedAmount');
  if (project.totalCost === 0) throw refuse.input('project.totalCost must be greater than 0');
  if (project.requestedAmount === 0) throw refuse.input('project.requestedAmount must be greater than 0');
  if (project.requestedAmount > project.totalCost) {
    throw refuse.rule(`The requested amount (${project.requestedAmount} VND) exceeds the total cost (${project.totalCost} VND)`);
  }
  const limit = capFor(project, cap);
  if (project.requestedAmount > limit) {
    throw refuse.rule(`The requested amount (${project.requestedAmount} VND) exceeds the category cap for this project (${limit} VND)`);
  }
  return project;
}

function submit({ data, actor }: SubmitApplication, state: ApplicationState): ApplicationEvent[] {
  if (state.status !== 'none') throw refuse.transition(`Application ${data.applicationId} already exists`);
  if (!data.programme.categoryFunded) {
    throw refuse.rule(`Programme ${data.programme.programmeId} allocates no budget to ${data.programme.category}`);
  }
  return [
    {
      type: 'ApplicationSubmitted',
      data: {
        applicationId: data.applicationId,
        programmeId: data.programme.programmeId,
        category: data.programme.category,
        ownerId: actor.id,
        applicant: data.applicant,
        project: validProject(data.project, data.programme.cap),
        cap: data.programme.cap,
      },
    },
  ];
}

function review({ data, actor }: ReviewApplication, state: Application): ApplicationEvent[] {
  notRecused(state, actor);
  inStatus(state, ['submitted'], 'review');
  if (!(Number.isInteger(data.score) && data.score >= 0 && data.score <= 100)) {
    throw refuse.input('score must be a whole number from 0 to 100');
  }
  if (data.recommendedAmount !== undefined) {
    assertWholeVnd(data.recommendedAmount, 'recommendedAmount');
    if (data.recommendedAmount > state.project.requestedAmount) {
      throw refuse.rule(
        `The recommended amount (${data.recommendedAmount} VND) exceeds the requested amount (${state.project.requestedAmount} VND)`,
      );
    }
  }
  return [{ type: 'ApplicationReviewed', data: { ...data, reviewerId: actor.id } }];
}

function approve({ data, actor }: ApproveApplication, state: Application): ApplicationEvent[] {
  notRecused(state, actor);
  inStatus(state, ['reviewed'], 'approve');
  assertWholeVnd(data.approvedAmount, 'approvedAmount');
  if (data.approvedAmount === 0) throw refuse.input('approvedAmount must be greater than 0');
  if (data.approvedAmount > state.project.requestedAmount) {
    throw refuse.rule(
      `The approved amount (${data.approvedAmount} VND) exceeds the requested amount (${state.project.requestedAmount} VND)`,
    );
  }
  const limit = capFor(state.project, state.cap);
  if (data.approvedAmount > limit) {
    throw refuse.rule(`The approved amount (${data.approvedAmount} VND) exceeds the category cap for this project (${limit} VND)`);
  }
  return [{ type: 'ApplicationApproved', data: { ...data, approvedBy: actor.id } }];
}

function disburse({ data }: DisburseFunds, state: Application): ApplicationEvent[] {
  assertWholeVnd(data.amount, 'amount');
  if (data.amount === 0) throw refuse.input('amount must be greater than 0');
  const earlier = state.disbursements.find((d) => d.paymentRef === data.paymentRef);
  if (earlier) {
    // Finance retries and Kafka redelivers: the same payment is recorded once.
    if (earlier.amount === data.amount) return [];
    throw refuse.rule(`Payment ${data.paymentRef} was already recorded with another amount (${earlier.amount} VND)`);
  }
  inStatus(state, ['approved', 'evaluated'], 'disburse funds to');
  const approved = state.approvedAmount ?? 0;
  if (state.evaluation?.rating === 'not_achieved') {
    throw refuse.rule('No further payment: the outcome evaluation rated this project not achieved');
  }
  const limit = state.status === 'approved' ? shareOf(approved, state.advanceShare ?? 0) : approved;
  const after = state.disbursedAmount + data.amount;
  if (after > limit) {
    const what = state.status === 'approved' ? `the advance limit before evaluation (${limit} VND)` : `the approved amount (${approved} VND)`;
    throw refuse.rule(`Over-disbursement: ${after} VND in total would exceed ${what}; already paid ${state.disbursedAmount} VND`);
  }
  return [{ type: 'FundsDisbursed', data }];
}
