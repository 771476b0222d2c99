import { Application, capFor, DomainError, OpenProgramme, outstanding, RATINGS, shareOf } from '@kcflow/domain';
import { InMemoryEventStore, RecordedEvent } from '@kcflow/event-store';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import {
  applicationAggregate,
  ApproveApplicationCommand,
  ApproveApplicationHandler,
  BudgetLedger,
  ChangeProgrammeCommand,
  ChangeProgrammeHandler,
  CommandContext,
  CommandLoop,
  programmeAggregate,
  SubmitApplicationCommand,
  SubmitApplicationHandler,
  Transition,
  TransitionApplicationCommand,
  TransitionApplicationHandler,
  verifyChain,
} from '@kcflow/workflow';

/**
 * Model-based test of DESIGN.md's invariants 1–5: random sequences of commands — valid in
 * shape, often refused by the lifecycle or the money rules, some fired concurrently — and
 * after every step the whole store is checked against the invariants, with an independent
 * oracle for the lifecycle (LIFECYCLE below, not the domain's code).
 *
 * Run directly over the workflow handlers on the in-memory store rather than over HTTP: a
 * few hundred sequences of up to 40 commands take seconds instead of minutes, and the HTTP
 * edge (validation, roles) is covered by the hostile-input and access-matrix suites.
 */

const PROGRAMME = 'HN-2024-model';
const ALLOCATION = { advanced_equipment: 1_000_000_000, product_design: 200_000_000 };

/** The handlers of one api process, with its own CommandLoop (and so its own held stream heads). */
interface Process {
  submit: SubmitApplicationHandler;
  approve: ApproveApplicationHandler;
  transition: TransitionApplicationHandler;
  programme: ChangeProgrammeHandler;
}

/**
 * Two processes on one store, as behind a load balancer: a step goes to either, so a process
 * often starts from a stream head the other has moved on from (CommandLoop.execute).
 */
interface Real extends Process {
  store: InMemoryEventStore;
  ids: string[];
  processes: [Process, Process];
  clock: { tick(): void; now(): Date };
}
type Model = { applications: number };

const context = (actorId: string, role: string): CommandContext => ({ actorId, role, correlationId: randomUUID(), causationId: randomUUID() });

async function system(): Promise<Real> {
  const store = new InMemoryEventStore();
  let now = Date.parse('2024-03-01T08:00:00Z');
  const clock = { tick: () => void (now += 60_000), now: () => new Date(now) };
  const apiProcess = (): Process => {
    const loop = new CommandLoop(store, clock);
    const ledger = new BudgetLedger(loop);
    return {
      submit: new SubmitApplicationHandler(store, loop),
      approve: new ApproveApplicationHandler(loop, ledger),
      transition: new TransitionApplicationHandler(loop, ledger),
      programme: new ChangeProgrammeHandler(loop),
    };
  };
  const processes: [Process, Process] = [apiProcess(), apiProcess()];
  const real: Real = { store, ids: [], processes, ...processes[0], clock };
  await real.programme.execute(
    new ChangeProgrammeCommand(
      PROGRAMME,
      { type: 'OpenProgramme', data: { programmeId: PROGRAMME, name: 'Kế hoạch 2024', year: 2024, fundingSource: 'city', allocations: ALLOCATION } },
      context('admin-1', 'admin'),
    ),
  );
  // A few applications to start from, so that most steps reach something to act on.
  for (const [category, totalCost, requestedAmount] of SEED) {
    const id = randomUUID();
    await real.submit.execute(
      new SubmitApplicationCommand(
        id,
        { programmeId: PROGRAMME, category, applicant: { name: 'HTX', taxCode: '0101234567', kind: 'cooperative', district: 'Chương Mỹ', commune: 'Phú Nghĩa' }, project: { title: 'Dự án', description: 'x', totalCost, requestedAmount, expectedOutcomes: {} } },
        context('owner-1', 'applicant'),
      ),
    );
    real.ids.push(id);
  }
  return real;
}

const SEED: Array<['advanced_equipment' | 'product_design', number, number]> = [
  ['advanced_equipment', 600_000_000, 300_000_000],
  ['advanced_equipment', 500_000_000, 250_000_000],
  ['product_design', 150_000_000, 120_000_000],
];

// ── Commands ──────────────────────────────────────────────────────────────────────────

type Action = (real: Real) => Promise<unknown>;

class Step implements fc.AsyncCommand<Model, Real> {
  constructor(
    private readonly label: string,
    private readonly action: Action,
    private readonly needsApplication = true,
    /** Several commands at once: a refusal of one may follow another's writes. */
    private readonly concurrent = false,
  ) {}

  check(model: Readonly<Model>): boolean {
    return !this.needsApplication || model.applications > 0;
  }

  async run(model: Model, real: Real): Promise<void> {
    real.clock.tick();
    const before = await allEvents(real.store);
    let refused = false;
    try {
      await this.action(real);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error; // anything else is a bug, not a refusal
      refused = true;
    }
    const after = await allEvents(real.store);
    // Invariant 1: a refused command writes nothing.
    if (refused && !this.concurrent) expect(after.map(identity)).toEqual(before.map(identity));
    await checkInvariants(before, after);
    model.applications = real.ids.length;
  }

  toString(): string {
    return this.label;
  }
}

const pick = (real: Real, i: number) => real.ids[i % real.ids.length];
/** The process a step on application `i` goes to: either, whichever handled the application last. */
const via = (real: Real, i: number) => real.processes[Math.floor(i / real.ids.length) % 2];
const transition = (i: number, actor: string, role: string, command: Omit<Transition, 'actor'>): Action => (real) =>
  via(real, i).transition.execute(new TransitionApplicationCommand(pick(real, i), { ...command, actor: { id: actor } } as Transition, context(actor, role)));
const approve = (i: number, decisionNumber: string, approvedAmount: number): Action => (real) =>
  via(real, i).approve.execute(new ApproveApplicationCommand(pick(real, i), { decisionNumber, decisionDate: '2024-05-02', approvedAmount }, context('committee-1', 'committee')));

const millions = (min: number, max: number) => fc.integer({ min, max }).map((n) => n * 1_000_000);
const project = fc
  .tuple(millions(1, 1200), fc.integer({ min: 1, max: 100 }))
  .map(([totalCost, percent]) => ({ title: 'Dự án', description: 'x', totalCost, requestedAmount: Math.max(1, Math.floor((totalCost * percent) / 100)), expectedOutcomes: {} }));
const reviewer = fc.constantFrom('reviewer-1', 'reviewer-2');
const owner = fc.constantFrom('owner-1', 'owner-1', 'intruder'); // mostly the owner
const app = fc.nat();

const commandsOnce = [
  fc.tuple(fc.constantFrom('advanced_equipment', 'product_design', 'trade_fair'), project).map(
    ([category, p]) =>
      new Step(
        `submit ${category} ${p.requestedAmount}/${p.totalCost}`,
        async (real) => {
          const id = randomUUID();
          await real.processes[real.ids.length % 2].submit.execute(
            new SubmitApplicationCommand(
              id,
              { programmeId: PROGRAMME, category: category as 'advanced_equipment', applicant: { name: 'HTX', taxCode: '0101234567', kind: 'cooperative', district: 'Chương Mỹ', commune: 'Phú Nghĩa' }, project: p },
              context('owner-1', 'applicant'),
            ),
          );
          real.ids.push(id);
        },
        false,
      ),
  ),
  fc.tuple(app, reviewer, fc.integer({ min: 0, max: 100 }), fc.constantFrom('approve', 'reject'), fc.option(millions(1, 400))).map(
    ([i, who, score, recommendation, amount]) =>
      new Step(`review #${i} by ${who}`, transition(i, who, 'reviewer', { type: 'ReviewApplication', data: { score, recommendation: recommendation as 'approve', ...(amount ? { recommendedAmount: amount } : {}) } })),
  ),
  fc.tuple(app, reviewer).map(([i, who]) => new Step(`request revision #${i} by ${who}`, transition(i, who, 'reviewer', { type: 'RequestRevision', data: { reason: 'Bổ sung' } }))),
  fc.tuple(app, owner, project).map(([i, who, p]) => new Step(`amend #${i} by ${who}`, transition(i, who, 'applicant', { type: 'AmendApplication', data: { project: p } }))),
  fc.tuple(app, reviewer).map(([i, who]) => new Step(`recuse ${who} from #${i}`, transition(i, who, 'reviewer', { type: 'RecuseReviewer', data: { reason: 'Người thân' } }))),
  fc.tuple(app, fc.constantFrom('1/QĐ', '2/QĐ'), millions(1, 400)).map(([i, n, amount]) => new Step(`approve #${i} ${n} ${amount}`, approve(i, n, amount))),
  fc.array(fc.tuple(app, fc.constantFrom('1/QĐ', '2/QĐ'), millions(50, 300)), { minLength: 2, maxLength: 8 }).map(
    (batch) =>
      new Step(
        `approve concurrently ${batch.map(([i, n, a]) => `#${i} ${n} ${a}`).join(', ')}`,
        async (real) => {
          const results = await Promise.allSettled(batch.map(([i, n, a]) => approve(i, n, a)(real)));
          const bug = results.find((r) => r.status === 'rejected' && !(r.reason instanceof DomainError));
          if (bug) throw (bug as PromiseRejectedResult).reason;
        },
        true,
        true,
      ),
  ),
  app.map((i) => new Step(`reject #${i}`, transition(i, 'committee-1', 'committee', { type: 'RejectApplication', data: { reason: 'Không đạt' } }))),
  fc.tuple(app, owner).map(([i, who]) => new Step(`withdraw #${i} by ${who}`, transition(i, who, 'applicant', { type: 'WithdrawApplication', data: { reason: 'Rút' } }))),
  fc.tuple(app, fc.constantFrom('KB-1', 'KB-2', 'KB-3', 'KB-4'), millions(1, 250)).map(
    ([i, paymentRef, amount]) => new Step(`pay #${i} ${paymentRef} ${amount}`, transition(i, 'finance-1', 'finance', { type: 'DisburseFunds', data: { paymentRef, amount, paidAt: '2024-06-01' } })),
  ),
  fc.tuple(app, reviewer, fc.constantFrom(...RATINGS)).map(
    ([i, who, rating]) => new Step(`evaluate #${i} ${rating} by ${who}`, transition(i, who, 'reviewer', { type: 'EvaluateOutcome', data: { outcomes: { jobs_created: 3 }, rating } })),
  ),
  app.map((i) => new Step(`close #${i}`, transition(i, 'admin-1', 'admin', { type: 'CloseApplication', data: {} }))),
  fc.tuple(fc.constantFrom('advanced_equipment', 'product_design'), millions(0, 1200)).map(
    ([category, amount]) =>
      new Step(
        `allocate ${category} ${amount}`,
        (real) => real.processes[real.ids.length % 2].programme.execute(new ChangeProgrammeCommand(PROGRAMME, { type: 'AllocateBudget', data: { category: category as 'product_design', amount } }, context('admin-1', 'admin'))),
        false,
      ),
  ),
];

/** The step that moves an application forward, with figures that fit: sequences reach closure. */
const advance = app.map(
  (i) =>
    new Step(`advance #${i}`, async (real) => {
      const id = pick(real, i);
      const a = fold(applicationAggregate, await real.store.readStream(`application-${id}`)) as Application;
      const approved = a.approvedAmount ?? 0;
      const pay = (amount: number) => transition(i, 'finance-1', 'finance', { type: 'DisburseFunds', data: { paymentRef: `KB-${a.disbursements.length + 1}`, amount, paidAt: '2024-06-01' } })(real);
      if (a.status === 'submitted') return transition(i, 'reviewer-1', 'reviewer', { type: 'ReviewApplication', data: { score: 80, recommendation: 'approve' } })(real);
      if (a.status === 'reviewed') return approve(i, '1/QĐ', Math.min(a.project.requestedAmount, capFor(a.project, a.cap)))(real);
      const advanceLeft = shareOf(approved, a.advanceShare ?? 0) - a.disbursedAmount;
      if (a.status === 'approved' && advanceLeft > 0) return pay(advanceLeft);
      if (a.status === 'approved') return transition(i, 'reviewer-1', 'reviewer', { type: 'EvaluateOutcome', data: { outcomes: {}, rating: 'achieved' } })(real);
      if (a.status === 'evaluated' && approved > a.disbursedAmount) return pay(approved - a.disbursedAmount);
      if (a.status === 'evaluated') return transition(i, 'admin-1', 'admin', { type: 'CloseApplication', data: {} })(real);
    }),
);
const commands = [...commandsOnce, advance, advance, advance];

// ── Invariants ────────────────────────────────────────────────────────────────────────

/** The lifecycle of DESIGN.md as a table: status → event → next status. */
const LIFECYCLE: Record<string, Record<string, string>> = {
  none: { ApplicationSubmitted: 'submitted' },
  submitted: { RevisionRequested: 'revision_requested', ApplicationReviewed: 'reviewed', ApplicationWithdrawn: 'withdrawn', ReviewerRecused: 'submitted' },
  revision_requested: { ApplicationAmended: 'submitted', ApplicationWithdrawn: 'withdrawn', ReviewerRecused: 'revision_requested' },
  reviewed: {
    ApplicationApproved: 'approved',
    ApplicationRejected: 'rejected',
    ApplicationWithdrawn: 'withdrawn',
    RevisionRequested: 'revision_requested',
    ReviewerRecused: 'reviewed',
  },
  approved: { FundsDisbursed: 'approved', OutcomeEvaluated: 'evaluated', ReviewerRecused: 'approved' },
  evaluated: { FundsDisbursed: 'evaluated', ApplicationClosed: 'closed' },
  closed: {},
  rejected: {},
  withdrawn: {},
};

const identity = (e: RecordedEvent) => ({ stream: e.streamId, revision: e.revision, id: e.id, type: e.type, data: e.data, metadata: e.metadata });

async function allEvents(store: InMemoryEventStore): Promise<RecordedEvent[]> {
  return store.readAll({ limit: Number.MAX_SAFE_INTEGER });
}

async function checkInvariants(before: RecordedEvent[], after: RecordedEvent[]): Promise<void> {
  // 5. Nothing written is ever changed or removed, and every stream's hash chain holds.
  expect(after.slice(0, before.length).map(identity)).toEqual(before.map(identity));
  const streams = new Map<string, RecordedEvent[]>();
  for (const e of after) streams.set(e.streamId, [...(streams.get(e.streamId) ?? []), e]);
  for (const [streamId, events] of streams) expect({ streamId, ...verifyChain(events) }).toMatchObject({ streamId, valid: true });

  const programme = fold(programmeAggregate, streams.get(`programme-${PROGRAMME}`) ?? []) as OpenProgramme;
  for (const [streamId, events] of streams) {
    if (!streamId.startsWith('application-')) continue;
    // 1. Every application's history follows the lifecycle.
    let status = 'none';
    for (const e of events) {
      const next = LIFECYCLE[status][e.type];
      if (!next) throw new Error(`${streamId}: ${e.type} is outside the lifecycle in status ${status}`);
      status = next;
    }
    const application = fold(applicationAggregate, events) as Application;
    expect(application.status).toBe(status);

    // 2. Whole VND; approved ≤ requested ≤ total cost; within the category's cap.
    const { totalCost, requestedAmount } = application.project;
    expect(Number.isSafeInteger(requestedAmount) && requestedAmount <= totalCost).toBe(true);
    if (application.approvedAmount !== null) {
      expect(application.approvedAmount).toBeLessThanOrEqual(requestedAmount);
      expect(application.approvedAmount).toBeLessThanOrEqual(capFor(application.project, application.cap));
    }

    // 4. Payments: within the approved amount, within the advance share before the evaluation,
    // none after a not_achieved rating, each payment reference once.
    let paid = 0;
    let evaluated: string | undefined;
    for (const e of events) {
      if (e.type === 'OutcomeEvaluated') evaluated = e.data.rating as string;
      if (e.type !== 'FundsDisbursed') continue;
      paid += e.data.amount as number;
      expect(evaluated).not.toBe('not_achieved');
      const limit = evaluated ? application.approvedAmount! : shareOf(application.approvedAmount!, application.advanceShare!);
      expect(paid).toBeLessThanOrEqual(limit);
    }
    const refs = application.disbursements.map((d) => d.paymentRef);
    expect(new Set(refs).size).toBe(refs.length);

    // 3. The programme holds exactly what the application's stage calls for.
    const commitment = programme.commitments[application.id];
    const held = commitment ? outstanding(commitment) : 0;
    const expected = { approved: application.approvedAmount, evaluated: application.approvedAmount, closed: application.disbursedAmount }[status as string] ?? 0;
    expect({ application: application.id, status, held }).toEqual({ application: application.id, status, held: expected });
  }
  // 3. Commitments per category never exceed the allocation.
  for (const [category, allocated] of Object.entries(programme.allocations)) {
    const committed = Object.values(programme.commitments)
      .filter((c) => c.category === category)
      .reduce((sum, c) => sum + outstanding(c), 0);
    expect(committed).toBeLessThanOrEqual(allocated as number);
  }
}

function fold<S, E>(aggregate: { initialState(): S; evolve(s: S, e: E): S }, events: RecordedEvent[]): S {
  return events.reduce((s, e) => aggregate.evolve(s, e as unknown as E), aggregate.initialState());
}

describe('Random valid command sequences keep invariants 1–5', () => {
  it('holds after every step of every sequence', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 30, size: 'max' }), async (steps) => {
        await fc.asyncModelRun(async () => ({ model: { applications: SEED.length }, real: await system() }), steps);
      }),
      { numRuns: Number(process.env.MODEL_RUNS ?? 100) },
    );
  }, 120_000);
});
