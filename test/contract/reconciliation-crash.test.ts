import { applicationStream, ProgrammeState, programmeStream } from '@kcflow/domain';
import {
  AppendResult,
  EventStore,
  ExpectedRevision,
  InMemoryEventStore,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  SubscribeOptions,
} from '@kcflow/event-store';
import { randomUUID } from 'node:crypto';
import {
  applicationAggregate,
  ApproveApplicationCommand,
  ApproveApplicationHandler,
  BudgetLedger,
  BudgetReconciliation,
  ChangeProgrammeCommand,
  ChangeProgrammeHandler,
  CommandContext,
  CommandLoop,
  loadStream,
  programmeAggregate,
  SubmitApplicationCommand,
  SubmitApplicationHandler,
  TransitionApplicationCommand,
  TransitionApplicationHandler,
} from '@kcflow/workflow';

/**
 * Invariant 3's crash case, made deterministic: the process "dies" between committing the
 * budget (programme stream) and recording the approval (application stream) — the store
 * refuses the application append once — and the reconciliation pass repairs it. The
 * workflow's handlers over the in-memory store: no server, no timing.
 */
class CrashBeforeApprovalIsRecorded implements EventStore {
  armed = true;
  constructor(private readonly inner: EventStore) {}

  append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    if (this.armed && events.some((e) => e.type === 'ApplicationApproved')) {
      this.armed = false;
      return Promise.reject(new Error('SIGKILL: the process died before the approval was recorded'));
    }
    return this.inner.append(streamId, events, expected);
  }
  readStream(streamId: string, options?: ReadStreamOptions) {
    return this.inner.readStream(streamId, options);
  }
  readAll(options: ReadAllOptions) {
    return this.inner.readAll(options);
  }
  subscribeToAll(options: SubscribeOptions) {
    return this.inner.subscribeToAll(options);
  }
  headPosition() {
    return this.inner.headPosition();
  }
  lastCommittedPosition() {
    return this.inner.lastCommittedPosition();
  }
  close() {
    return this.inner.close();
  }
}

const GRACE_SECONDS = 30;
const PROGRAMME = 'HN-2024-crash';

function setUp() {
  const store = new CrashBeforeApprovalIsRecorded(new InMemoryEventStore());
  let now = new Date('2024-05-02T08:00:00Z');
  const clock = { now: () => now };
  const loop = new CommandLoop(store, clock);
  const ledger = new BudgetLedger(loop);
  const reconciliation = new BudgetReconciliation(store, loop, ledger, clock, GRACE_SECONDS);
  const context = (actorId: string, role: string): CommandContext => ({ actorId, role, correlationId: randomUUID(), causationId: randomUUID() });
  const transition = new TransitionApplicationHandler(loop, ledger);

  return {
    store,
    reconciliation,
    later: (seconds: number) => (now = new Date(now.getTime() + seconds * 1000)),
    approve: (id: string) =>
      new ApproveApplicationHandler(loop, ledger).execute(
        new ApproveApplicationCommand(id, { decisionNumber: '99/QĐ-UBND', decisionDate: '2024-05-02', approvedAmount: 300_000_000 }, context('committee-1', 'committee')),
      ),
    withdraw: (id: string) =>
      transition.execute(
        new TransitionApplicationCommand(id, { type: 'WithdrawApplication', actor: { id: 'htx-phu-vinh' }, data: { reason: 'Đổi kế hoạch' } }, context('htx-phu-vinh', 'applicant')),
      ),
    async reviewedApplication(): Promise<string> {
      await new ChangeProgrammeHandler(loop)
        .execute(
          new ChangeProgrammeCommand(
            PROGRAMME,
            { type: 'OpenProgramme', data: { programmeId: PROGRAMME, name: 'Kế hoạch 2024', year: 2024, fundingSource: 'city', allocations: { advanced_equipment: 1_000_000_000 } } },
            context('admin-1', 'admin'),
          ),
        )
        .catch(() => undefined); // already open
      const id = randomUUID();
      await new SubmitApplicationHandler(store, loop).execute(
        new SubmitApplicationCommand(
          id,
          {
            programmeId: PROGRAMME,
            category: 'advanced_equipment',
            applicant: { name: 'HTX Phú Vinh', taxCode: '0101234567', kind: 'cooperative', district: 'Chương Mỹ', commune: 'Phú Nghĩa' },
            project: { title: 'Máy chẻ nan', description: 'x', totalCost: 600_000_000, requestedAmount: 300_000_000, expectedOutcomes: {} },
          },
          context('htx-phu-vinh', 'applicant'),
        ),
      );
      await transition.execute(
        new TransitionApplicationCommand(id, { type: 'ReviewApplication', actor: { id: 'reviewer-1' }, data: { score: 80, recommendation: 'approve' } }, context('reviewer-1', 'reviewer')),
      );
      return id;
    },
    async application(id: string) {
      return (await loadStream(store, applicationAggregate, applicationStream(id))).state;
    },
    async outstanding(id: string): Promise<number> {
      const { state } = await loadStream(store, programmeAggregate, programmeStream(PROGRAMME));
      const commitment = (state as Extract<ProgrammeState, { status: 'open' }>).commitments[id];
      return commitment ? commitment.committed - commitment.released : 0;
    },
  };
}

describe('Budget reconciliation after a crash between commitment and approval (invariant 3)', () => {
  it('finishes the approval when the application still waits for it', async () => {
    const t = setUp();
    const id = await t.reviewedApplication();

    await expect(t.approve(id)).rejects.toThrow(/SIGKILL/);
    expect(await t.outstanding(id)).toBe(300_000_000);
    expect((await t.application(id)).status).toBe('reviewed');

    // Within the grace period the approval may still be in flight: left alone.
    expect(await t.reconciliation.reconcile([PROGRAMME])).toEqual([]);

    t.later(GRACE_SECONDS + 1);
    expect(await t.reconciliation.reconcile([PROGRAMME])).toEqual([
      { programmeId: PROGRAMME, applicationId: id, action: 'approval_completed', amount: 300_000_000, reason: 'decision 99/QĐ-UBND' },
    ]);
    expect(await t.application(id)).toMatchObject({ status: 'approved', approvedAmount: 300_000_000, decision: { decisionNumber: '99/QĐ-UBND', approvedBy: 'committee-1' } });
    expect(await t.outstanding(id)).toBe(300_000_000);

    // The committee, retrying the same decision, finds it recorded; a second pass does nothing.
    await expect(t.approve(id)).resolves.toMatchObject({ status: 'approved' });
    expect(await t.reconciliation.reconcile([PROGRAMME])).toEqual([]);
    const approvals = (await t.store.readStream(applicationStream(id))).filter((e) => e.type === 'ApplicationApproved');
    expect(approvals).toHaveLength(1);
    expect(approvals[0].metadata).toMatchObject({ actorId: 'system:reconciliation', role: 'system' });
  });

  it('releases the money when the application was withdrawn meanwhile', async () => {
    const t = setUp();
    const id = await t.reviewedApplication();

    await expect(t.approve(id)).rejects.toThrow(/SIGKILL/);
    await t.withdraw(id);
    t.later(GRACE_SECONDS + 1);

    expect(await t.reconciliation.reconcile([PROGRAMME])).toEqual([
      { programmeId: PROGRAMME, applicationId: id, action: 'released', amount: 300_000_000, reason: 'reconciliation: application is withdrawn' },
    ]);
    expect((await t.application(id)).status).toBe('withdrawn');
    expect(await t.outstanding(id)).toBe(0);
    expect(await t.reconciliation.reconcile([PROGRAMME])).toEqual([]);
  });
});
