import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Application, ApplicationCommand, applicationStream, ApproveApplication, decideApplication, SubmitApplication } from '@kcflow/domain';
import { BudgetLedger } from '../budget/budget-ledger';
import { applicationAggregate } from '../shared/aggregates';
import { CommandContext } from '../shared/command-context';
import { CommandLoop } from '../shared/command-loop';
import { CommandAnswer } from './application-view';

/** Every step of the lifecycle but submission and approval, which have handlers of their own. */
export type Transition = Exclude<ApplicationCommand, SubmitApplication | ApproveApplication>;

export class TransitionApplicationCommand {
  constructor(
    readonly applicationId: string,
    readonly command: Transition,
    readonly context: CommandContext,
  ) {}
}

@CommandHandler(TransitionApplicationCommand)
export class TransitionApplicationHandler implements ICommandHandler<TransitionApplicationCommand, CommandAnswer> {
  constructor(
    private readonly loop: CommandLoop,
    private readonly ledger: BudgetLedger,
  ) {}

  async execute({ applicationId, command, context }: TransitionApplicationCommand): Promise<CommandAnswer> {
    const { state, revision } = await this.loop.execute(applicationAggregate, applicationStream(applicationId), context, (s) =>
      decideApplication(command, s),
    );
    const application = state as Application;
    // Rejection and closure hand back what is committed but unpaid. A crash between the two
    // writes leaves the release to the reconciliation pass (budget/reconciliation.ts).
    if (command.type === 'RejectApplication') {
      await this.ledger.release(application.programmeId, applicationId, 0, 'rejected', context);
    } else if (command.type === 'CloseApplication') {
      await this.ledger.release(application.programmeId, applicationId, application.disbursedAmount, 'closed', context);
    }
    return { id: applicationId, revision: revision ?? 0, status: application.status, paymentStatus: application.paymentStatus };
  }
}
