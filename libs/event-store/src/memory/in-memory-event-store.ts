import {
  AppendResult,
  EventStore,
  ExpectedRevision,
  GlobalPosition,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
  WrongExpectedRevisionError,
} from '../event-store.port';
import { meetsExpectation } from '../expected-revision';
import { PollingSubscriptions } from '../polling-subscription';

/**
 * An event store in this process's memory, for unit tests. Each append checks and writes
 * without awaiting in between, so it is atomic with respect to other appends.
 */
export class InMemoryEventStore implements EventStore {
  /** All events in global order; the position of events[i] is { commit: i, prepare: i }. */
  private readonly events: RecordedEvent[] = [];
  private readonly streams = new Map<string, RecordedEvent[]>();
  private readonly eventIds = new Set<string>();
  private readonly subscriptions = new PollingSubscriptions(this);

  async append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    const stream = this.streams.get(streamId) ?? [];
    const actual = stream.length === 0 ? 'no_stream' : stream.length - 1;
    if (!meetsExpectation(expected, actual)) throw new WrongExpectedRevisionError(streamId, expected, actual);
    // A duplicate id is refused, as the PostgreSQL store's unique constraint does.
    const ids = events.map((event) => event.id);
    const duplicate = ids.find((id, i) => this.eventIds.has(id) || ids.indexOf(id) !== i);
    if (duplicate) throw new Error(`Event ${duplicate} has already been appended`);

    for (const event of events) {
      const position = { commit: BigInt(this.events.length), prepare: BigInt(this.events.length) };
      // Stored as JSON, like the persistent stores, so tests see what those would return.
      const recorded = { ...roundTrip(event), streamId, revision: stream.length, position, recordedAt: new Date() };
      stream.push(recorded);
      this.events.push(recorded);
      this.eventIds.add(event.id);
    }
    this.streams.set(streamId, stream);
    if (events.length > 0) this.subscriptions.notifyAppended();
    const last = stream.at(-1);
    return { revision: stream.length - 1, position: last?.position ?? { commit: 0n, prepare: 0n } };
  }

  async readStream(streamId: string, { fromRevision, toRevision }: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const stream = this.streams.get(streamId) ?? [];
    if (toRevision !== undefined && toRevision < 0) return [];
    return stream.slice(Math.max(0, fromRevision ?? 0), toRevision === undefined ? undefined : toRevision + 1).map(copy);
  }

  async readAll({ after, limit, streamPrefix = '' }: ReadAllOptions): Promise<RecordedEvent[]> {
    const start = after ? Number(after.prepare) + 1 : 0;
    const page: RecordedEvent[] = [];
    for (let i = start; i < this.events.length && page.length < limit; i++) {
      if (this.events[i].streamId.startsWith(streamPrefix)) page.push(copy(this.events[i]));
    }
    return page;
  }

  subscribeToAll(options: SubscribeOptions): Subscription {
    return this.subscriptions.subscribe(options);
  }

  async headPosition(): Promise<GlobalPosition | undefined> {
    return this.events.at(-1)?.position;
  }

  lastCommittedPosition(): Promise<GlobalPosition | undefined> {
    return this.headPosition();
  }

  async countEvents(after?: GlobalPosition): Promise<number> {
    return Math.max(0, this.events.length - (after ? Number(after.prepare) + 1 : 0));
  }

  /** Stops the subscriptions; the events stay, as they would in a database. */
  async close(): Promise<void> {
    await this.subscriptions.stopAll();
  }
}

function roundTrip(event: NewEvent): NewEvent {
  return JSON.parse(JSON.stringify({ id: event.id, type: event.type, data: event.data, metadata: event.metadata }));
}

/** Readers get copies, so that mutating what they read cannot change a stored event. */
function copy(event: RecordedEvent): RecordedEvent {
  const { streamId, revision, position, recordedAt } = event;
  return { ...roundTrip(event), streamId, revision, position: { ...position }, recordedAt: new Date(recordedAt) };
}
