import { Inject } from '@nestjs/common';
import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { Application, applicationStream, refuse } from '@kcflow/domain';
import type { EventStore } from '@kcflow/event-store/port';
import { applicationAggregate } from '../shared/aggregates';
import { loadStream } from '../shared/command-loop';
import { EVENT_STORE } from '../shared/tokens';
import { applicationView, ApplicationView } from './application-view';

/** Who is reading, so an applicant sees only its own applications. */
export interface Reader {
  actorId: string;
  /** Set when the reader may see only what it owns (an applicant and nothing more). */
  ownerOnly: boolean;
}

export function assertMayRead(application: Application, reader: Reader): void {
  if (reader.ownerOnly && application.ownerId !== reader.actorId) {
    throw refuse.forbidden('This application belongs to another applicant');
  }
}

/** Read-your-writes: folded from the stream itself, not from a read model. */
export class GetApplicationQuery {
  constructor(
    readonly applicationId: string,
    readonly reader: Reader,
  ) {}
}

@QueryHandler(GetApplicationQuery)
export class GetApplicationHandler implements IQueryHandler<GetApplicationQuery, ApplicationView> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ applicationId, reader }: GetApplicationQuery): Promise<ApplicationView> {
    const { state, revision } = await loadStream(this.store, applicationAggregate, applicationStream(applicationId));
    if (state.status === 'none') throw refuse.notFound(`Application ${applicationId} not found`);
    assertMayRead(state, reader);
    return applicationView(state, revision);
  }
}
