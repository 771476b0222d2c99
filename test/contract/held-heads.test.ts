import { randomUUID } from 'node:crypto';
import { applicationStream, DomainError, initialApplicationState } from '@kcflow/domain';
import { AppendResult, ExpectedRevision, InMemoryEventStore, NewEvent, ReadStreamOptions, RecordedEvent } from '@kcflow/event-store';
import {
  applicationAggregate,
  ApproveApplicationCommand,
  ApproveApplicationHandler,
  BudgetLedger,
  ChangeProgrammeCommand,
  ChangeProgrammeHandler,
  CommandContext,
  CommandLoop,
  InMemorySnapshotStore,
  PreconditionFailedError,
  StreamLoader,
  SubmitApplicationCommand,
  SubmitApplicationHandler,
  Transition,
  TransitionApplicationCommand,
  TransitionApplicationHandler,
  verifyChain,
} from '@kcflow/workflow';

/**
 * A command starts from the head of the stream its process last read or appended, without
 * reading the stream (CommandLoop.execute). Another process may have appended since: such a
 * head must only ever cost a refused append and a read, never a wrong decision, a wrong
 * answer or an error the caller sees.
 */

const context = (actorId: string, role: string, expectedRevision?: number): CommandContext => ({
  actorId,
  role,
  correlationId: randomUUID(),
  causationId: randomUUID(),
  ...(expectedRevision === undefined ? {} : { expectedRevision }),
});

/** The in-memory store, noting every stream read and every append refused for its expected revision. */
class RecordingStore extends InMemoryEventStore {
  reads: string[] = [];
  refusedAppends: string[] = [];

  override readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    this.reads.push(streamId);
    return super.readStream(streamId, options);
  }

  override async append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    try {
      return await super.append(streamId, events, expected);
    } catch (error) {
      this.refusedAppends.push(streamId);
      throw error;
    }
  }

  clear() {
    this.reads = [];
    this.refusedAppends = [];
  }
}

/** One api process: its own CommandLoop (and so its own held heads) over the shared store. */
function apiProcess(store: RecordingStore) {
  const loop = new CommandLoop(store, { now: () => new Date() }, new InMemorySnapshotStore());
  const ledger = new BudgetLedger(loop);
  const transitions = new TransitionApplicationHandler(loop, ledger);
  return {
    programme: new ChangeProgrammeHandler(loop),
    submit: (id: string) =>
      new SubmitApplicationHandler(store, loop).execute(
        new SubmitApplicationCommand(
          id,
          {
            programmeId: PROGRAMME,
            category: 'advanced_equipment',
            applicant: { name: 'HTX', taxCode: '0101234567', kind: 'cooperative', district: 'Chương Mỹ', commune: 'Phú Nghĩa' },
            project: { title: 'Máy', description: 'x', totalCost: 600_000_000, requestedAmount: 300_000_000, expectedOutcomes: {} },
          },
          context('owner-1', 'applicant'),
        ),
      ),
    transition: (id: string, command: Omit<Transition, 'actor'>, actorId: string, role: string, expectedRevision?: number) =>
      transitions.execute(new TransitionApplicationCommand(id, { ...command, actor: { id: actorId } } as Transition, context(actorId, role, expectedRevision))),
    approve: (id: string) =>
      new ApproveApplicationHandler(loop, ledger).execute(
        new ApproveApplicationCommand(id, { decisionNumber: 'QĐ-1', decisionDate: '2024-05-02', approvedAmount: 300_000_000 }, context('committee-1', 'committee')),
      ),
  };
}

const PROGRAMME = 'HN-HELD';
const review = { type: 'ReviewApplication', data: { score: 80, recommendation: 'approve' } } as const;
const pay = (paymentRef: string, amount = 10_000_000) => ({ type: 'DisburseFunds', data: { paymentRef, amount, paidAt: '2024-06-01' } }) as const;
const evaluate = { type: 'EvaluateOutcome', data: { outcomes: {}, rating: 'achieved' } } as const;

async function twoProcesses() {
  const store = new RecordingStore();
  const a = apiProcess(store);
  const b = apiProcess(store);
  await a.programme.execute(
    new ChangeProgrammeCommand(
      PROGRAMME,
      { type: 'OpenProgramme', data: { programmeId: PROGRAMME, name: 'Kế hoạch 2024', year: 2024, fundingSource: 'city', allocations: { advanced_equipment: 10_000_000_000 } } },
      context('admin-1', 'admin'),
    ),
  );
  store.clear();
  return { store, a, b };
}

const eventsOf = async (store: InMemoryEventStore, id: string) => (await store.readStream(applicationStream(id))).map((e) => e.type);

describe('a command on a stream its process holds the head of', () => {
  it('submits without reading the new application stream, and reviews, then pays, without reading it', async () => {
    const { store, a } = await twoProcesses();
    const id = randomUUID();
    await a.submit(id);
    expect(store.reads).toEqual([`programme-${PROGRAMME}`]); // the programme's terms, read: nothing is appended to it
    store.clear();
    await a.transition(id, review, 'reviewer-1', 'reviewer');
    expect(store.reads).toEqual([]);
    await a.approve(id); // read: the budget commitment rests on it
    store.clear();
    await a.transition(id, pay('KB-1'), 'finance-1', 'finance');
    expect(store.reads).toEqual([]);
    expect(store.refusedAppends).toEqual([]);
    expect(await eventsOf(store, id)).toEqual(['ApplicationSubmitted', 'ApplicationReviewed', 'ApplicationApproved', 'FundsDisbursed']);
  });
});

describe('a held head another process has moved on from', () => {
  it('is refused at the append and decided again on the stream as read: one event, not two', async () => {
    const { store, a, b } = await twoProcesses();
    const id = randomUUID();
    await a.submit(id); // a holds "submitted"
    await b.transition(id, review, 'reviewer-1', 'reviewer');
    store.clear();
    // On a's held head the review would be allowed; the store says it is reviewed already.
    const refusal = await a.transition(id, review, 'reviewer-2', 'reviewer').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(DomainError);
    expect(store.refusedAppends).toEqual([applicationStream(id)]);
    expect(store.reads).toEqual([applicationStream(id)]);
    expect(await eventsOf(store, id)).toEqual(['ApplicationSubmitted', 'ApplicationReviewed']);
  });

  it('never refuses what the stream as read allows: a payment a stale head would refuse goes through', async () => {
    const { store, a, b } = await twoProcesses();
    const id = randomUUID();
    await a.submit(id);
    await a.transition(id, review, 'reviewer-1', 'reviewer'); // a holds "reviewed"
    await b.approve(id);
    store.clear();
    // On a's held head ("reviewed") a payment is refused; the application is approved.
    const answer = await a.transition(id, pay('KB-1'), 'finance-1', 'finance');
    expect(answer).toMatchObject({ status: 'approved', paymentStatus: 'partial', revision: 3 });
    expect(store.refusedAppends).toEqual([]); // the refusal on the held head was not taken: the stream was read
    expect(store.reads).toEqual([applicationStream(id)]);
    expect(await eventsOf(store, id)).toEqual(['ApplicationSubmitted', 'ApplicationReviewed', 'ApplicationApproved', 'FundsDisbursed']);
  });

  it('answers a repeated payment from the stream as read, not from the held head', async () => {
    const { store, a, b } = await twoProcesses();
    const id = randomUUID();
    await a.submit(id);
    await a.transition(id, review, 'reviewer-1', 'reviewer');
    await a.approve(id);
    await a.transition(id, pay('KB-1'), 'finance-1', 'finance'); // a holds "approved", paid KB-1
    await b.transition(id, evaluate, 'reviewer-1', 'reviewer');
    store.clear();
    // Finance retries KB-1: nothing to write, and the answer names the status the store holds.
    const answer = await a.transition(id, pay('KB-1'), 'finance-1', 'finance');
    expect(answer).toMatchObject({ status: 'evaluated', revision: 4 });
    expect(store.reads).toEqual([applicationStream(id)]);
    expect(await eventsOf(store, id)).toEqual(['ApplicationSubmitted', 'ApplicationReviewed', 'ApplicationApproved', 'FundsDisbursed', 'OutcomeEvaluated']);
  });

  it('is no reason for a 412: If-Match is checked against the stream as read', async () => {
    const { store, a, b } = await twoProcesses();
    const id = randomUUID();
    await a.submit(id); // a holds revision 0
    await b.transition(id, { type: 'RequestRevision', data: { reason: 'Bổ sung' } }, 'reviewer-1', 'reviewer'); // revision 1
    // The owner has read revision 1 and amends with If-Match: 1.
    const project = { title: 'Máy mới', description: 'x', totalCost: 600_000_000, requestedAmount: 250_000_000, expectedOutcomes: {} };
    const answer = await a.transition(id, { type: 'AmendApplication', data: { project } }, 'owner-1', 'applicant', 1);
    expect(answer).toMatchObject({ status: 'submitted', revision: 2 });
    // And an If-Match the stream has moved on from is still a 412, naming the stored revision.
    const stale = await a.transition(id, review, 'reviewer-1', 'reviewer', 1).catch((error: unknown) => error);
    expect(stale).toBeInstanceOf(PreconditionFailedError);
    expect(stale).toMatchObject({ expectedRevision: 1, actualRevision: 2 });
  });

  it('keeps the hash chain whole: the event appended after a stale head links to the stored one', async () => {
    const { store, a, b } = await twoProcesses();
    const id = randomUUID();
    await a.submit(id);
    await b.transition(id, review, 'reviewer-1', 'reviewer');
    await a.transition(id, { type: 'RequestRevision', data: { reason: 'Bổ sung' } }, 'reviewer-2', 'reviewer');
    expect(store.refusedAppends).toEqual([applicationStream(id)]);
    expect(verifyChain(await store.readStream(applicationStream(id)))).toMatchObject({ valid: true });
  });

  it('a submission under an id already taken is refused as the stream as read says, and writes nothing', async () => {
    const { store, a, b } = await twoProcesses();
    const id = randomUUID();
    await b.submit(id);
    store.clear();
    await expect(a.submit(id)).rejects.toBeInstanceOf(DomainError);
    expect(store.refusedAppends).toEqual([applicationStream(id)]);
    expect(await eventsOf(store, id)).toEqual(['ApplicationSubmitted']);
  });
});

describe('StreamLoader: the heads held', () => {
  it('holds at most `capacity` heads, dropping the least recently read or appended', async () => {
    const store = new InMemoryEventStore();
    const loader = new StreamLoader(store, undefined, 2);
    const head = (revision: number) => ({ state: initialApplicationState(), revision, lastEventId: randomUUID(), lastHash: 'h' });
    await loader.appended(applicationAggregate, 's1', { state: initialApplicationState(), revision: undefined }, head(0));
    await loader.appended(applicationAggregate, 's2', { state: initialApplicationState(), revision: undefined }, head(0));
    await loader.appended(applicationAggregate, 's1', head(0), head(1));
    await loader.appended(applicationAggregate, 's3', { state: initialApplicationState(), revision: undefined }, head(0));
    expect(loader.held('s1')?.revision).toBe(1);
    expect(loader.held('s2')).toBeUndefined();
    expect(loader.held('s3')?.revision).toBe(0);
  });
});
