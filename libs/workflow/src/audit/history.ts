import { Inject, Optional } from '@nestjs/common';
import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { Application, applicationStream, OpenProgramme, programmeStream, refuse } from '@kcflow/domain';
import type { EventStore, RecordedEvent } from '@kcflow/event-store/port';
import { applicationView } from '../applications/application-view';
import { programmeView } from '../programmes/programme-view';
import { applicationAggregate, programmeAggregate } from '../shared/aggregates';
import { Aggregate, DomainEventShape, foldEvents } from '../shared/fold';
import { EVENT_STORE, SNAPSHOT_STORE } from '../shared/tokens';
import type { Snapshot, SnapshotStore } from '../snapshots/snapshot-store';
import { foldWithSnapshots, readFromSnapshot } from '../snapshots/stream-loader';
import { verifyChain } from './hash-chain';

export type AuditedKind = 'application' | 'programme';

/** A page of the history's events: the last `limit` up to the revision asked for, or before `cursor`. */
export interface EventsPage {
  limit: number;
  /** `nextCursor` of the previous page: the events before it. */
  cursor?: string;
}

/** Replays a stream up to a revision or a moment: what an inspector saw then, and why. */
export class GetHistoryQuery {
  constructor(
    readonly kind: AuditedKind,
    readonly id: string,
    readonly asOf?: Date,
    readonly revision?: number,
    /** Without it every event up to the revision is listed (API.md); with it, one page of them. */
    readonly page?: EventsPage,
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

export type HistoryEntry = ReturnType<typeof historyEntry>;

export interface HistoryAnswer {
  events: HistoryEntry[];
  /** The application or programme as it stood then (null before it existed). */
  state: ReturnType<typeof view>;
  /** Only when a page was asked for: `nextCursor` gives the events before these, null at the first. */
  eventsPage?: { limit: number; nextCursor: string | null };
}

function notFound(kind: AuditedKind, id: string) {
  return refuse.notFound(`${kind === 'application' ? 'Application' : 'Programme'} ${id} not found`);
}

async function readAudited(store: EventStore, kind: AuditedKind, id: string, toRevision?: number): Promise<RecordedEvent[]> {
  const events = await store.readStream(streams[kind].streamOf(id), toRevision === undefined ? undefined : { toRevision });
  if (events.length === 0) throw notFound(kind, id);
  return events;
}

/** The revision a cursor stands for: the page then ends just before it. */
function cursorRevision(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  if (!/^\d{1,15}$/.test(cursor)) throw refuse.input('eventsCursor is not a cursor this history gave');
  return Number(cursor);
}

@QueryHandler(GetHistoryQuery)
export class GetHistoryHandler implements IQueryHandler<GetHistoryQuery, HistoryAnswer> {
  private readonly writing = new Set<string>();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Optional() @Inject(SNAPSHOT_STORE) private readonly snapshots?: SnapshotStore,
  ) {}

  async execute({ kind, id, asOf, revision, page }: GetHistoryQuery): Promise<HistoryAnswer> {
    if (page && asOf === undefined) return this.paged(kind, id, revision, page);
    // Every event up to the revision is in the answer, so the state is folded from them and
    // owes nothing to snapshots. The store stops at the revision; a moment is found among what it returns.
    const upToRevision = await readAudited(this.store, kind, id, revision);
    const events = asOf === undefined ? upToRevision : upToRevision.filter((e) => new Date(e.metadata.occurredAt) <= asOf);
    const { aggregate } = streams[kind];
    const state = foldEvents(aggregate, aggregate.initialState(), events);
    if (!page) return { events: events.map(historyEntry), state: view(kind, state, events.at(-1)?.revision) };
    const before = cursorRevision(page.cursor);
    const earlier = before === undefined ? events : events.filter((e) => e.revision < before);
    const listed = earlier.slice(Math.max(0, earlier.length - page.limit));
    const more = listed.length < earlier.length;
    return answer(kind, state, events.at(-1)?.revision, listed, page.limit, more);
  }

  /**
   * The state as of the revision and one page of events, reading only what they need:
   * 1. the latest snapshot at or below the revision, if it opens (seal, fold version, stream);
   * 2. the events from the snapshot's revision to the one asked for — the first must be the
   *    event the snapshot was taken at, unaltered, or the snapshot is set aside and the
   *    stream read from the start;
   * 3. the page, from those events, or with a second read when it reaches further back;
   * 4. the fold of the events after the snapshot; snapshots it passes that were missing are
   *    written after the answer, best effort, so the next replay of this stream starts closer.
   */
  private async paged(kind: AuditedKind, id: string, revision: number | undefined, page: EventsPage): Promise<HistoryAnswer> {
    const { streamOf, aggregate } = streams[kind];
    const streamId = streamOf(id);
    const before = cursorRevision(page.cursor);
    // 1. and 2.
    const fromSnapshot = await readFromSnapshot(this.store, this.snapshots, aggregate as Aggregate<unknown, never>, streamId, revision);
    const base = fromSnapshot?.state ?? aggregate.initialState();
    const events = fromSnapshot?.events ?? (await readAudited(this.store, kind, id, revision));
    const last = events[events.length - 1].revision;
    // 3.
    const pageTo = before === undefined ? last : Math.min(last, before - 1);
    const pageFrom = Math.max(0, pageTo - page.limit + 1);
    let listed: RecordedEvent[];
    if (pageTo < pageFrom) listed = [];
    else if (pageFrom >= events[0].revision) listed = events.slice(pageFrom - events[0].revision, pageTo - events[0].revision + 1);
    else listed = await this.store.readStream(streamId, { fromRevision: pageFrom, toRevision: pageTo });
    // 4.
    const folded = foldWithSnapshots(aggregate, streamId, base, fromSnapshot ? events.slice(1) : events);
    this.writeBehind(streamId, folded.snapshots);
    return answer(kind, folded.state, last, listed, page.limit, pageFrom > 0 && pageTo >= pageFrom);
  }

  /**
   * Snapshots are written after the answer: an inspector does not wait on an optimisation.
   * One write per stream at a time; a replay meanwhile simply folds a little more.
   */
  private writeBehind(streamId: string, snapshots: () => Snapshot[]): void {
    if (!this.snapshots || this.writing.has(streamId)) return;
    const store = this.snapshots;
    this.writing.add(streamId);
    setImmediate(() => {
      const sealed = snapshots();
      (sealed.length > 0 ? store.save(sealed) : Promise.resolve())
        .catch(() => undefined)
        .finally(() => this.writing.delete(streamId));
    });
  }
}

function view(kind: AuditedKind, state: unknown, revision: number | undefined) {
  if ((state as { status: string }).status === 'none') return null;
  return kind === 'application' ? applicationView(state as Application, revision) : programmeView(state as OpenProgramme, revision);
}

function answer(kind: AuditedKind, state: unknown, revision: number | undefined, listed: RecordedEvent[], limit: number, more: boolean): HistoryAnswer {
  return {
    events: listed.map(historyEntry),
    state: view(kind, state, revision),
    eventsPage: { limit, nextCursor: more && listed.length > 0 ? String(listed[0].revision) : null },
  };
}

@QueryHandler(VerifyIntegrityQuery)
export class VerifyIntegrityHandler implements IQueryHandler<VerifyIntegrityQuery> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ kind, id }: VerifyIntegrityQuery) {
    return verifyChain(await readAudited(this.store, kind, id));
  }
}
