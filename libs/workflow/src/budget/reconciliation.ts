import {
  Application,
  applicationStream,
  BudgetCommitted,
  decideApplication,
  foldProgramme,
  initialProgrammeState,
  outstanding,
  ProgrammeEvent,
  programmeStream,
} from '@kcflow/domain';
import type { EventStore, RecordedEvent } from '@kcflow/event-store/port';
import { applicationAggregate } from '../shared/aggregates';
import { Clock } from '../shared/command-context';
import { CommandLoop, loadStream } from '../shared/command-loop';
import { BudgetLedger } from './budget-ledger';

export interface ReconciliationAction {
  programmeId: string;
  applicationId: string;
  action: 'approval_completed' | 'released';
  amount: number;
  reason: string;
}

/**
 * Repairs what a crash between two writes can leave (invariant 3): a commitment whose
 * approval was never recorded, or a rejected, withdrawn or closed application whose unpaid
 * commitment was never released. Commitments younger than the grace period are left alone:
 * their approval may still be in flight.
 *
 * An interrupted approval is finished rather than undone while the application still
 * waits for a decision: the commitment carries the committee's whole decision, and a
 * committee member retrying the same decision then simply finds it recorded.
 */
export class BudgetReconciliation {
  constructor(
    private readonly store: EventStore,
    private readonly loop: CommandLoop,
    private readonly ledger: BudgetLedger,
    private readonly clock: Clock,
    private readonly graceSeconds: number,
  ) {}

  async reconcile(programmeIds: readonly string[]): Promise<ReconciliationAction[]> {
    const actions: ReconciliationAction[] = [];
    for (const programmeId of programmeIds) actions.push(...(await this.reconcileProgramme(programmeId)));
    return actions;
  }

  private async reconcileProgramme(programmeId: string): Promise<ReconciliationAction[]> {
    const events = await this.store.readStream(programmeStream(programmeId));
    const state = foldProgramme(initialProgrammeState(), events as unknown as ProgrammeEvent[]);
    if (state.status !== 'open') return [];
    const lastCommitment = new Map<string, RecordedEvent>();
    for (const event of events) if (event.type === 'BudgetCommitted') lastCommitment.set(String(event.data.applicationId), event);

    const cutoff = this.clock.now().getTime() - this.graceSeconds * 1000;
    const actions: ReconciliationAction[] = [];
    for (const [applicationId, commitment] of Object.entries(state.commitments)) {
      const committedEvent = lastCommitment.get(applicationId)!;
      if (outstanding(commitment) <= 0 || new Date(committedEvent.metadata.occurredAt).getTime() > cutoff) continue;
      const { state: application } = await loadStream(this.store, applicationAggregate, applicationStream(applicationId));
      if (application.status === 'none') continue;
      const action = await this.repair(programmeId, application, committedEvent, outstanding(commitment), state.advanceShare);
      if (action) actions.push(action);
    }
    return actions;
  }

  private async repair(
    programmeId: string,
    application: Application,
    committedEvent: RecordedEvent,
    outstandingAmount: number,
    advanceShare: number,
  ): Promise<ReconciliationAction | undefined> {
    const context = {
      actorId: 'system:reconciliation',
      role: 'system',
      correlationId: committedEvent.metadata.correlationId,
      causationId: committedEvent.id,
    };
    const base = { programmeId, applicationId: application.id };
    switch (application.status) {
      case 'approved':
      case 'evaluated':
        return undefined;
      case 'reviewed': {
        const { decision } = committedEvent.data as BudgetCommitted['data'];
        await this.loop.execute(applicationAggregate, applicationStream(application.id), context, (s) =>
          s.status === 'approved'
            ? []
            : decideApplication(
                {
                  type: 'ApproveApplication',
                  actor: { id: decision.approvedBy },
                  data: {
                    decisionNumber: decision.decisionNumber,
                    decisionDate: decision.decisionDate,
                    approvedAmount: decision.approvedAmount,
                    advanceShare,
                  },
                },
                s,
              ),
        );
        return { ...base, action: 'approval_completed', amount: decision.approvedAmount, reason: `decision ${decision.decisionNumber}` };
      }
      default: {
        // Rejected, withdrawn, closed, or sent back for revision: keep only what was paid.
        const keep = application.status === 'closed' ? application.disbursedAmount : 0;
        const reason = `reconciliation: application is ${application.status}`;
        if (outstandingAmount <= keep) return undefined;
        await this.ledger.release(programmeId, application.id, keep, reason, context);
        return { ...base, action: 'released', amount: outstandingAmount - keep, reason };
      }
    }
  }
}
