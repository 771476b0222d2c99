/**
 * The EventStoreDB adapter (`@eventstore/db-client` 6.x), the production store.
 *
 * Connection strings: `esdb://user:pass@host:2113?tls=true&defaultDeadline=10000`.
 * TLS is on unless the string says `tls=false`, which is the insecure dev mode (a local
 * container started with `--insecure`); never use it across a network. Deadlines
 * (`defaultDeadline`) and keep-alive (`keepAliveInterval`, `keepAliveTimeout`) are read from
 * the string; `connect` only adds the ones it lacks.
 */
import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  START,
  excludeSystemEvents,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type Position,
  type ReadPosition,
} from '@eventstore/db-client';
import type {
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
} from '../event-store.port';
import { WrongExpectedRevisionError, comparePositions } from '../event-store.port';
import { meetsExpectation } from '../expected-revision';
import { startBatchPump, type BatchPump } from './batch-pump';
import {
  failedAppendError,
  fromEsdbRevision,
  isStreamNotFound,
  isSystemRecord,
  mapAppendError,
  toEsdbEvent,
  fromEsdbPosition,
  toEsdbExpectedRevision,
  toEsdbPosition,
  toRecordedEvent,
  withConnectionDefaults,
  type ConnectionDefaults,
} from './esdb-mapping';
import { findLastPosition, forwardPageSize, readAllAfter, type ReadAllPage } from './esdb-paging';
import { subscriptionReach } from './subscription-reach';

export interface EsdbEventStoreOptions {
  /** Added to the connection string when it does not set them. */
  connectionDefaults?: ConnectionDefaults;
  /** Records per `readAll` call when walking $all. */
  readPageSize?: number;
  /** Batch size of subscriptions that do not name one. */
  subscriptionBatchSize?: number;
}

const DEFAULT_CONNECTION: ConnectionDefaults = {
  defaultDeadline: 10_000,
  keepAliveInterval: 10_000,
  keepAliveTimeout: 10_000,
};

export class EsdbEventStore implements EventStore {
  private readonly readPageSize: number;
  private readonly subscriptionBatchSize: number;
  private readonly pumps = new Set<BatchPump>();

  /** Opens a client and proves the server answers (a read of $all) before returning. */
  static async connect(connectionString: string, options: EsdbEventStoreOptions = {}): Promise<EsdbEventStore> {
    const client = EventStoreDBClient.connectionString(
      withConnectionDefaults(connectionString, { ...DEFAULT_CONNECTION, ...options.connectionDefaults }),
    );
    const store = new EsdbEventStore(client, options);
    try {
      await store.headPosition();
    } catch (error) {
      await client.dispose().catch(() => undefined);
      // The connection string may hold a password: it stays out of the message.
      throw new Error(`EventStoreDB did not answer: ${(error as Error).message}`, { cause: error });
    }
    return store;
  }

  constructor(
    private readonly client: EventStoreDBClient,
    options: EsdbEventStoreOptions = {},
  ) {
    this.readPageSize = options.readPageSize ?? 500;
    this.subscriptionBatchSize = options.subscriptionBatchSize ?? 100;
  }

  async append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    if (events.length === 0) return this.checkExpectation(streamId, expected);
    const expectedRevision = toEsdbExpectedRevision(expected);
    let result;
    try {
      result = await this.client.appendToStream(streamId, events.map(toEsdbEvent), { expectedRevision });
    } catch (error) {
      throw mapAppendError(error, streamId, expected);
    }
    if (!result.success) throw failedAppendError(streamId, expected, result.nextExpectedRevision);
    const revision = fromEsdbRevision(result.nextExpectedRevision);
    return { revision, position: await this.positionOf(streamId, revision) };
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const { toRevision } = options;
    const from = Math.max(0, options.fromRevision ?? 0);
    if (toRevision !== undefined && toRevision < from) return [];
    const events: RecordedEvent[] = [];
    try {
      const reading = this.client.readStream(streamId, {
        direction: FORWARDS,
        fromRevision: from === 0 ? START : BigInt(from),
        ...(toRevision === undefined ? {} : { maxCount: BigInt(toRevision - from) + 1n }),
      });
      for await (const resolved of reading) {
        if (resolved.event) events.push(toRecordedEvent(resolved.event));
      }
    } catch (error) {
      if (isStreamNotFound(error)) return [];
      throw error;
    }
    return events;
  }

  readAll(options: ReadAllOptions): Promise<RecordedEvent[]> {
    const pageSize = forwardPageSize(options.limit, this.readPageSize);
    return readAllAfter(this.pageReader(FORWARDS), { ...options, pageSize });
  }

  headPosition(): Promise<GlobalPosition | undefined> {
    return findLastPosition(this.pageReader(BACKWARDS), Math.min(this.readPageSize, 100));
  }

  /** $all has no events committed but not yet readable. */
  lastCommittedPosition(): Promise<GlobalPosition | undefined> {
    return this.headPosition();
  }

  /**
   * With a streamPrefix, the server filters (a stream name filter, which also leaves out the
   * system streams) and sends a checkpoint every so often with the position it has read to,
   * so that a subscriber can move past a long run of events it does not want. Untested
   * against a server (none runs in this repository's tests); the pump's part is unit tested.
   */
  subscribeToAll(options: SubscribeOptions): Subscription {
    const batchSize = options.batchSize ?? this.subscriptionBatchSize;
    const reach = subscriptionReach(options.after);
    const checkpointReached = (_: unknown, position: Position) => {
      reach.checkpointReached(fromEsdbPosition(position));
      pump.wake();
    };
    const source = this.client.subscribeToAll(
      {
        fromPosition: options.after ? toEsdbPosition(options.after) : START,
        filter:
          options.streamPrefix === undefined
            ? excludeSystemEvents()
            : streamNameFilter({ prefixes: [options.streamPrefix], checkpointReached }),
      },
      { highWaterMark: batchSize },
    );
    // Guards "strictly after" and against a record delivered twice, whatever the server does.
    let cursor = options.after;
    const select = ({ event: record }: AllStreamResolvedEvent): RecordedEvent | undefined => {
      if (!record || isSystemRecord(record)) return undefined;
      const event = toRecordedEvent(record);
      if (cursor && comparePositions(event.position, cursor) <= 0) return undefined;
      cursor = event.position;
      return event;
    };
    const pump = startBatchPump({
      source,
      batchSize,
      select,
      reach: reach.reach,
      handler: options.handler,
      onError: options.onError,
      release: async () => {
        await source.unsubscribe();
        source.destroy();
      },
    });
    this.pumps.add(pump);
    void pump.done.finally(() => this.pumps.delete(pump));
    return { stop: () => pump.stop() };
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.pumps].map((pump) => pump.stop()));
    await this.client.dispose();
  }

  private pageReader(direction: typeof FORWARDS | typeof BACKWARDS): ReadAllPage {
    return async (from, maxCount) => {
      const fromPosition: ReadPosition = typeof from === 'string' ? from : toEsdbPosition(from);
      const page: AllStreamResolvedEvent[] = [];
      for await (const resolved of this.client.readAll({ direction, fromPosition, maxCount })) page.push(resolved);
      return page;
    };
  }

  /** An empty append writes nothing; like the other stores it only checks the expectation. */
  private async checkExpectation(streamId: string, expected: ExpectedRevision): Promise<AppendResult> {
    const last = await this.lastEvent(streamId);
    const actual = last?.revision ?? 'no_stream';
    if (!meetsExpectation(expected, actual)) throw new WrongExpectedRevisionError(streamId, expected, actual);
    return last ?? { revision: -1, position: { commit: 0n, prepare: 0n } };
  }

  private async lastEvent(streamId: string): Promise<AppendResult | undefined> {
    try {
      const reading = this.client.readStream(streamId, {
        direction: BACKWARDS,
        fromRevision: END,
        maxCount: 1,
        requiresLeader: true,
      });
      for await (const { event } of reading) {
        if (event) return { revision: fromEsdbRevision(event.revision), position: toRecordedEvent(event).position };
      }
    } catch (error) {
      if (!isStreamNotFound(error)) throw error;
    }
    return undefined;
  }

  /**
   * The $all position of an event just appended, read back from the leader. The position
   * in the append reply is that of the write, which for several events need not be the
   * last event's own position, and the port promises the latter.
   */
  private async positionOf(streamId: string, revision: number): Promise<GlobalPosition> {
    const reading = this.client.readStream(streamId, { fromRevision: BigInt(revision), maxCount: 1, requiresLeader: true });
    for await (const { event } of reading) {
      if (event) return toRecordedEvent(event).position;
    }
    throw new Error(`EventStoreDB did not return ${streamId}@${revision} right after appending it`);
  }
}
