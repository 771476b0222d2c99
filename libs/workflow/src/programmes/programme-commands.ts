import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler, IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { decideProgramme, OpenProgramme, ProgrammeCommand, programmeStream, refuse } from '@kcflow/domain';
import type { EventStore } from '@kcflow/event-store/port';
import { programmeAggregate } from '../shared/aggregates';
import { CommandContext } from '../shared/command-context';
import { CommandLoop, loadStream } from '../shared/command-loop';
import { EVENT_STORE } from '../shared/tokens';
import { programmeView } from './programme-view';

/** Open a programme, change an allocation, set targets: one stream, one loop. */
export class ChangeProgrammeCommand {
  constructor(
    readonly programmeId: string,
    readonly command: Exclude<ProgrammeCommand, { type: 'CommitBudget' | 'ReleaseBudget' }>,
    readonly context: CommandContext,
  ) {}
}

@CommandHandler(ChangeProgrammeCommand)
export class ChangeProgrammeHandler implements ICommandHandler<ChangeProgrammeCommand, { id: string; revision: number }> {
  constructor(private readonly loop: CommandLoop) {}

  async execute({ programmeId, command, context }: ChangeProgrammeCommand) {
    const { revision } = await this.loop.execute(programmeAggregate, programmeStream(programmeId), context, (state) =>
      decideProgramme(command, state),
    );
    return { id: programmeId, revision: revision ?? 0 };
  }
}

export class GetProgrammeQuery {
  constructor(readonly programmeId: string) {}
}

@QueryHandler(GetProgrammeQuery)
export class GetProgrammeHandler implements IQueryHandler<GetProgrammeQuery> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ programmeId }: GetProgrammeQuery) {
    const { state, revision } = await loadStream(this.store, programmeAggregate, programmeStream(programmeId));
    if (state.status === 'none') throw refuse.notFound(`Programme ${programmeId} not found`);
    return programmeView(state as OpenProgramme, revision);
  }
}
