import { ApprovalDecision, Category, decideProgramme, ProgrammeState, programmeStream } from '@kcflow/domain';
import { CommandContext } from '../shared/command-context';
import { CommandLoop, Start } from '../shared/command-loop';
import { programmeAggregate } from '../shared/aggregates';

/**
 * The programme side of an application's money: commitments on approval, releases on
 * rejection and closure. Each is one programme-stream command, so the allocation check
 * and the append happen against one revision (invariant 3).
 */
export class BudgetLedger {
  constructor(private readonly loop: CommandLoop) {}

  /** `start`: the programme as the caller has it already (CommandLoop.execute), so it is not read twice. */
  commit(
    programmeId: string,
    applicationId: string,
    category: Category,
    decision: ApprovalDecision,
    context: CommandContext,
    start?: Start<ProgrammeState>,
  ) {
    return this.loop.execute(
      programmeAggregate,
      programmeStream(programmeId),
      withoutIfMatch(context),
      (state) => decideProgramme({ type: 'CommitBudget', data: { applicationId, category, amount: decision.approvedAmount, decision } }, state),
      start,
    );
  }

  /** Releases what is committed to the application beyond `keep` (what was paid). */
  release(programmeId: string, applicationId: string, keep: number, reason: string, context: CommandContext) {
    return this.loop.execute(programmeAggregate, programmeStream(programmeId), withoutIfMatch(context), (state) =>
      decideProgramme({ type: 'ReleaseBudget', data: { applicationId, keep, reason } }, state),
    );
  }
}

/** If-Match speaks of the application stream the caller read, never of the programme's. */
function withoutIfMatch(context: CommandContext): CommandContext {
  return { ...context, expectedRevision: undefined };
}
