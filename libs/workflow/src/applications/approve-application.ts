import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Application, applicationStream, decideApplication, DomainError, ProgrammeState, programmeStream } from '@kcflow/domain';
import { BudgetLedger } from '../budget/budget-ledger';
import { applicationAggregate, programmeAggregate } from '../shared/aggregates';
import { CommandContext } from '../shared/command-context';
import { CommandLoop } from '../shared/command-loop';
import type { StreamHead } from '../snapshots/stream-loader';
import { PreconditionFailedError } from '../shared/errors';
import { CommandAnswer } from './application-view';

export class ApproveApplicationCommand {
  constructor(
    readonly applicationId: string,
    readonly data: { decisionNumber: string; decisionDate: string; approvedAmount: number },
    readonly context: CommandContext,
  ) {}
}

/**
 * Approval spans two streams. The budget is committed first, on the programme stream, so
 * that no interleaving of approvals can commit more than the allocation (invariant 3);
 * the decision is then recorded on the application stream. If that second write is
 * refused, the commitment is released again before answering. If the process dies between
 * the two, the commitment carries the whole decision and the reconciliation pass finishes
 * the approval (or releases the money when the application can no longer be approved).
 */
@CommandHandler(ApproveApplicationCommand)
export class ApproveApplicationHandler implements ICommandHandler<ApproveApplicationCommand, CommandAnswer> {
  constructor(
    private readonly loop: CommandLoop,
    private readonly ledger: BudgetLedger,
  ) {}

  async execute({ applicationId, data, context }: ApproveApplicationCommand): Promise<CommandAnswer> {
    // 1. Decide on the application as it stands, so a refusal costs no budget write.
    //    Read, not taken from what this process holds: the budget write of step 2 rests on it.
    const stream = applicationStream(applicationId);
    const head = await this.loop.load(applicationAggregate, stream);
    const { state, revision } = head;
    if (context.expectedRevision !== undefined && context.expectedRevision !== revision) {
      throw new PreconditionFailedError(context.expectedRevision, revision);
    }
    const actor = { id: context.actorId };
    if (state.status === 'approved' && sameDecision(state, data)) {
      // The same decision again (a retry after a lost answer): nothing more to write.
      return { id: applicationId, revision: revision ?? 0, status: state.status, paymentStatus: state.paymentStatus };
    }
    // The programme, for its advance share now and its ledger in step 2. The head this process
    // holds will do: the advance share is fixed when a programme opens, and the commitment's
    // append checks that the ledger it was decided on is current. Else it is read, once.
    const programme = state.status === 'none' ? undefined : await this.programme(state.programmeId);
    const advanceShare = programme?.head.state.status === 'open' ? programme.head.state.advanceShare : 0;
    const command = { type: 'ApproveApplication' as const, actor, data: { ...data, advanceShare } };
    decideApplication(command, state);
    const application = state as Application;

    // 2. Commit the budget.
    const decision = { ...data, approvedBy: context.actorId };
    const start = programme && (programme.held ? { presumed: programme.head } : { read: programme.head });
    await this.ledger.commit(application.programmeId, applicationId, application.category, decision, context, start);

    // 3. Record the decision; if that is refused, hand the money back.
    try {
      const result = await this.loop.execute(applicationAggregate, stream, context, (s) =>
        s.status === 'approved' && sameDecision(s, data) ? [] : decideApplication(command, s),
        { read: head },
      );
      const approved = result.state as Application;
      return { id: applicationId, revision: result.revision ?? 0, status: approved.status, paymentStatus: approved.paymentStatus };
    } catch (error) {
      if (error instanceof DomainError || error instanceof PreconditionFailedError) {
        await this.ledger.release(application.programmeId, applicationId, 0, `approval not recorded: ${error.message}`, context);
      }
      throw error;
    }
  }

  private async programme(programmeId: string): Promise<{ head: StreamHead<ProgrammeState>; held: boolean }> {
    const stream = programmeStream(programmeId);
    const held = this.loop.held(programmeAggregate, stream);
    if (held?.state.status === 'open') return { head: held, held: true };
    return { head: await this.loop.load(programmeAggregate, stream), held: false };
  }
}

function sameDecision(state: Application, data: { decisionNumber: string; approvedAmount: number }): boolean {
  return state.decision?.outcome === 'approved' && state.decision.decisionNumber === data.decisionNumber && state.approvedAmount === data.approvedAmount;
}
