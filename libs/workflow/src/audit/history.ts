import { Inject } from '@nestjs/common';
import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { Application, applicationStream, OpenProgramme, programmeStream, refuse } from '@kcflow/domain';
import type { EventStore, RecordedEvent } from '@kcflow/event-store/port';
import { applicationView } from '../applications/application-view';
import { programmeView } from '../programmes/programme-view';
import { applicationAggregate, programmeAggregate } from '../shared/aggregates';
import { Aggregate, DomainEventShape } from '../shared/command-loop';
import { EVENT_STORE } from '../shared/tokens';
import { verifyChain } from './hash-chain';

export type AuditedKind = 'application' | 'programme';

/** Replays a stream up to a revision or a moment: what an inspector saw then, and why. */
export class GetHistoryQuery {
  constructor(
    readonly kind: AuditedKind,
    readonly id: string,
    readonly asOf?: Date,
    readonly revision?: number,
  ) {}
}

export class VerifyIntegrityQuery {
  constructor(
    readonly kind: AuditedKind,
    readonly id: string,
  ) {}
}

const streams = {
  application: { streamOf: applicationStream, aggregate: applicationAggregate as Aggregate<unknown, DomainEventShape> },
  programme: { streamOf: programmeStream, aggregate: programmeAggregate as Aggregate<unknown, DomainEventShape> },
};

export function historyEntry(event: RecordedEvent) {
  const { actorId, role, actorName, occurredAt, correlationId, causationId } = event.metadata;
  return {
    revision: event.revision,
    id: event.id,
    type: event.type,
    data: event.data,
    metadata: { actorId, role, actorName, at: occurredAt, recordedAt: event.recordedAt.toISOString(), correlationId, causationId },
  };
}

async function readAudited(store: EventStore, kind: AuditedKind, id: string, toRevision?: number): Promise<RecordedEvent[]> {
  const events = await store.readStream(streams[kind].streamOf(id), toRevision === undefined ? undefined : { toRevision });
  if (events.length === 0) throw refuse.notFound(`${kind === 'application' ? 'Application' : 'Programme'} ${id} not found`);
  return events;
}

@QueryHandler(GetHistoryQuery)
export class GetHistoryHandler implements IQueryHandler<GetHistoryQuery> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ kind, id, asOf, revision }: GetHistoryQuery) {
    // The store stops at the revision asked for; a moment is found among what it returns.
    const upToRevision = await readAudited(this.store, kind, id, revision);
    const events = asOf === undefined ? upToRevision : upToRevision.filter((e) => new Date(e.metadata.occurredAt) <= asOf);
    const { aggregate } = streams[kind];
    const state = events.reduce((s, e) => aggregate.evolve(s, e as unknown as DomainEventShape), aggregate.initialState()) as {
      status: string;
    };
    const last = events.at(-1)?.revision;
    const view =
      state.status === 'none'
        ? null
        : kind === 'application'
          ? applicationView(state as Application, last)
          : programmeView(state as OpenProgramme, last);
    return { events: events.map(historyEntry), state: view };
  }
}

@QueryHandler(VerifyIntegrityQuery)
export class VerifyIntegrityHandler implements IQueryHandler<VerifyIntegrityQuery> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ kind, id }: VerifyIntegrityQuery) {
    return verifyChain(await readAudited(this.store, kind, id));
  }
}
