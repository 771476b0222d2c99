import type { EventStore, RecordedEvent } from '@kcflow/event-store/port';
import { hashEvent } from '../audit/hash-chain';
import { Aggregate, DomainEventShape, foldEvents } from '../shared/fold';
import { Snapshot, SnapshotStore, sealedSnapshot, sealOf } from './snapshot-store';

/** A stream folded up to its last event, and which event that was. */
export interface StreamHead<State> {
  state: State;
  /** Revision of the last event folded; undefined when the stream does not exist. */
  revision: number | undefined;
  lastEventId?: string;
  /** `metadata.hash` of the last event: the previous hash of the next event appended. */
  lastHash?: string;
}

/**
 * A snapshot's state, if it can be trusted to be what folding the stream up to its revision
 * gives: made by this fold version, for this stream, and not altered since it was sealed.
 * Whether the stored event at its revision is the one it names is checked by `isTakenAt`.
 */
function openSnapshot<State>(aggregate: Aggregate<State, never>, streamId: string, snapshot: Snapshot | undefined): State | undefined {
  if (!snapshot || !aggregate.snapshots) return undefined;
  if (snapshot.foldVersion !== aggregate.snapshots.foldVersion || snapshot.streamId !== streamId) return undefined;
  if (sealOf(snapshot) !== snapshot.seal) return undefined;
  try {
    return JSON.parse(snapshot.state) as State;
  } catch {
    return undefined;
  }
}

/** Whether `event`, read from the store, is the unaltered event the snapshot was taken at. */
function isTakenAt(snapshot: Snapshot, event: RecordedEvent | undefined): boolean {
  return (
    event !== undefined &&
    event.revision === snapshot.revision &&
    event.metadata.hash === snapshot.eventHash &&
    hashEvent(event) === snapshot.eventHash
  );
}

/**
 * The latest snapshot at or below `toRevision` that can be trusted (openSnapshot, isTakenAt),
 * with the stored events from its revision up to `toRevision`: `events[0]` is the event it was
 * taken at, the rest are to be folded onto `state`. Undefined when there is none to trust.
 */
export async function readFromSnapshot<State>(
  store: EventStore,
  snapshots: SnapshotStore | undefined,
  aggregate: Aggregate<State, never>,
  streamId: string,
  toRevision?: number,
): Promise<{ state: State; events: RecordedEvent[] } | undefined> {
  const policy = aggregate.snapshots;
  if (!policy || !snapshots) return undefined;
  const snapshot = await snapshots.latest(streamId, policy.foldVersion, toRevision).catch(() => undefined);
  const state = openSnapshot(aggregate, streamId, snapshot);
  if (!snapshot || state === undefined) return undefined;
  const events = await store.readStream(streamId, { fromRevision: snapshot.revision, toRevision });
  return isTakenAt(snapshot, events[0]) ? { state, events } : undefined;
}

/**
 * Folds `events` onto `base`, stopping at every `every`-th revision (every-1, 2·every-1, …) to
 * keep the state there; `snapshots()` seals those states. A fold never changes the state it
 * started from, so each kept state stays as it was, and sealing can wait until after the answer.
 */
export function foldWithSnapshots<State, Event extends DomainEventShape>(
  aggregate: Aggregate<State, Event>,
  streamId: string,
  base: State,
  events: readonly RecordedEvent[],
): { state: State; snapshots: () => Snapshot[] } {
  const policy = aggregate.snapshots;
  if (!policy) return { state: foldEvents(aggregate, base, events), snapshots: () => [] };
  const kept: { revision: number; eventHash: string; state: State }[] = [];
  let state = base;
  let from = 0;
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    if ((event.revision + 1) % policy.every !== 0 || typeof event.metadata.hash !== 'string') continue;
    state = foldEvents(aggregate, state, events.slice(from, i + 1));
    from = i + 1;
    kept.push({ revision: event.revision, eventHash: event.metadata.hash, state });
  }
  return {
    state: foldEvents(aggregate, state, events.slice(from)),
    snapshots: () => kept.map((k) => sealedSnapshot(streamId, k.revision, policy.foldVersion, k.eventHash, k.state)),
  };
}

/**
 * How the command side loads a stream. Streams whose aggregate says so (programmes, which gain
 * an event with every approval) are read from a recent point on rather than from the start:
 *
 * 1. from the state this process last saw, if the stored event at its revision is still the
 *    one it folded last (same event id);
 * 2. else from the latest snapshot, if it opens (openSnapshot) and the stored event at its
 *    revision is the one it was taken at (isTakenAt);
 * 3. else from the start, as every other stream is loaded.
 *
 * Whichever it was, the events after that point are read and folded on, so the state always
 * reflects every event stored. Snapshots are written here, best effort, when a load or an
 * append has folded `every` events or more beyond the last one; a failed write changes nothing.
 *
 * It also holds, for every stream, the head this process last read or appended (`held`):
 * CommandLoop starts a command from it without reading, and trusts it only through the
 * append's expected revision.
 */
export class StreamLoader {
  private readonly recent = new Map<string, StreamHead<unknown>>();

  constructor(
    private readonly store: EventStore,
    private readonly snapshots?: SnapshotStore,
    private readonly capacity = 4_096,
  ) {}

  async load<State, Event extends DomainEventShape>(aggregate: Aggregate<State, Event>, streamId: string): Promise<StreamHead<State>> {
    if (!aggregate.snapshots?.loadOnCommand) {
      const head = await this.fromStart(aggregate, streamId);
      if (head.revision !== undefined) this.keep(streamId, head);
      return head;
    }
    // 1. What this process saw last.
    const seen = this.recent.get(streamId) as StreamHead<State> | undefined;
    if (seen?.revision !== undefined) {
      const head = await this.afterSeen(aggregate, streamId, { ...seen, revision: seen.revision });
      if (head) return this.remember(aggregate, streamId, head, seen.revision);
    }
    // 2. The latest snapshot.
    const fromSnapshot = await readFromSnapshot(this.store, this.snapshots, aggregate as Aggregate<State, never>, streamId);
    if (fromSnapshot) {
      const { state, events } = fromSnapshot;
      return this.remember(aggregate, streamId, headOf(foldEvents(aggregate, state, events.slice(1)), events.at(-1)), events[0].revision);
    }
    // 3. The whole stream.
    return this.remember(aggregate, streamId, await this.fromStart(aggregate, streamId), -1);
  }

  /**
   * The head this process last read or appended for the stream, if it still holds one. Not
   * read now: another process may have appended since, so it is only presumed current.
   */
  held<State>(streamId: string): StreamHead<State> | undefined {
    return this.recent.get(streamId) as StreamHead<State> | undefined;
  }

  /** False once this process has seen the stream move on from `head` (an append in between): no use trying to append on it. */
  isLatestSeen(streamId: string, head: StreamHead<unknown>): boolean {
    const seen = this.recent.get(streamId);
    return seen === undefined || seen.revision === head.revision;
  }

  /** After an append: holds the new head, and snapshots it if that is due. */
  async appended<State, Event extends DomainEventShape>(
    aggregate: Aggregate<State, Event>,
    streamId: string,
    before: StreamHead<State>,
    after: StreamHead<State>,
  ): Promise<void> {
    this.keep(streamId, after);
    if (!aggregate.snapshots) return;
    const every = aggregate.snapshots.every;
    const crossed = Math.floor(((after.revision ?? -1) + 1) / every) > Math.floor(((before.revision ?? -1) + 1) / every);
    if (crossed) await this.snapshot(aggregate, streamId, after);
  }

  private async fromStart<State, Event extends DomainEventShape>(aggregate: Aggregate<State, Event>, streamId: string): Promise<StreamHead<State>> {
    const events = await this.store.readStream(streamId);
    return headOf(foldEvents(aggregate, aggregate.initialState(), events), events.at(-1));
  }

  /** Reads from the seen head's revision on; undefined if the event stored there is no longer the one it folded last. */
  private async afterSeen<State, Event extends DomainEventShape>(
    aggregate: Aggregate<State, Event>,
    streamId: string,
    seen: StreamHead<State> & { revision: number },
  ): Promise<StreamHead<State> | undefined> {
    const events = await this.store.readStream(streamId, { fromRevision: seen.revision });
    if (events[0]?.id !== seen.lastEventId) return undefined;
    return headOf(foldEvents(aggregate, seen.state, events.slice(1)), events.at(-1));
  }

  private async remember<State, Event extends DomainEventShape>(
    aggregate: Aggregate<State, Event>,
    streamId: string,
    head: StreamHead<State>,
    loadedFrom: number,
  ): Promise<StreamHead<State>> {
    if (head.revision === undefined) return head;
    this.keep(streamId, head);
    if (aggregate.snapshots && head.revision - loadedFrom >= aggregate.snapshots.every) await this.snapshot(aggregate, streamId, head);
    return head;
  }

  private keep(streamId: string, head: StreamHead<unknown>): void {
    this.recent.delete(streamId);
    this.recent.set(streamId, head);
    if (this.recent.size > this.capacity) this.recent.delete(this.recent.keys().next().value as string);
  }

  private async snapshot<State, Event extends DomainEventShape>(aggregate: Aggregate<State, Event>, streamId: string, head: StreamHead<State>) {
    if (!this.snapshots || !aggregate.snapshots || head.revision === undefined || !head.lastHash) return;
    const snapshot = sealedSnapshot(streamId, head.revision, aggregate.snapshots.foldVersion, head.lastHash, head.state);
    // An optimisation only: a store that cannot take it now costs a longer load later, nothing more.
    await this.snapshots.save([snapshot]).catch(() => undefined);
  }
}

function headOf<State>(state: State, last: RecordedEvent | undefined): StreamHead<State> {
  return { state, revision: last?.revision, lastEventId: last?.id, lastHash: last?.metadata.hash as string | undefined };
}
