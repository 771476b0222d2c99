import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Applicant, applicationStream, Category, decideApplication, Project, programmeStream, refuse } from '@kcflow/domain';
import type { EventStore } from '@kcflow/event-store/port';
import { applicationAggregate, programmeAggregate } from '../shared/aggregates';
import { CommandContext } from '../shared/command-context';
import { CommandLoop, newStream } from '../shared/command-loop';
import { EVENT_STORE } from '../shared/tokens';
import { CommandAnswer } from './application-view';

export class SubmitApplicationCommand {
  constructor(
    readonly applicationId: string,
    readonly data: { programmeId: string; category: Category; applicant: Applicant; project: Project },
    readonly context: CommandContext,
  ) {}
}

@CommandHandler(SubmitApplicationCommand)
export class SubmitApplicationHandler implements ICommandHandler<SubmitApplicationCommand, CommandAnswer> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly loop: CommandLoop,
  ) {}

  async execute({ applicationId, data, context }: SubmitApplicationCommand): Promise<CommandAnswer> {
    const { state: programme } = await this.loop.load(programmeAggregate, programmeStream(data.programmeId));
    if (programme.status === 'none') throw refuse.notFound(`Programme ${data.programmeId} not found`);
    const terms = {
      programmeId: programme.id,
      category: data.category,
      cap: programme.caps[data.category],
      advanceShare: programme.advanceShare,
      categoryFunded: (programme.allocations[data.category] ?? 0) > 0,
    };
    const { revision } = await this.loop.execute(applicationAggregate, applicationStream(applicationId), context, (state) =>
      decideApplication(
        {
          type: 'SubmitApplication',
          actor: { id: context.actorId },
          data: { applicationId, applicant: data.applicant, project: data.project, programme: terms },
        },
        state,
      ),
      // The id was made up just now, so the stream is taken not to exist without reading it; the append checks that.
      { presumed: newStream(applicationAggregate) },
    );
    return { id: applicationId, revision: revision ?? 0, status: 'submitted' };
  }
}
