import { SqlDatabase, SqlQueryable, quoteSchema } from '@kcflow/sql';
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

export interface PostgresEventStoreOptions {
  /** Owned by the caller, who closes it after the store. */
  db: SqlDatabase;
  schema: string;
  /** How often a caught-up subscription looks for events appended by other processes. */
  pollIntervalMs?: number;
}

interface PositionRow {
  transaction_id: string;
  global_position: string;
}

interface EventRow extends PositionRow {
  stream_id: string;
  stream_revision: string;
  event_id: string;
  type: string;
  data: Record<string, unknown>;
  metadata: RecordedEvent['metadata'];
  recorded_at: Date;
}

const EVENT_COLUMNS =
  'stream_id, stream_revision, transaction_id, global_position, event_id, type, data, metadata, recorded_at';

/** The event store in PostgreSQL: the same SQL runs on a real server (`pg`) and on PGlite. */
export class PostgresEventStore implements EventStore {
  private readonly db: SqlDatabase;
  private readonly schemaName: string;
  private readonly s: string;
  private readonly subscriptions: PollingSubscriptions;

  constructor({ db, schema, pollIntervalMs }: PostgresEventStoreOptions) {
    this.db = db;
    this.schemaName = schema;
    this.s = quoteSchema(schema);
    this.subscriptions = new PollingSubscriptions((options) => this.readAll(options), pollIntervalMs);
  }

  /** Creates the schema and tables if they are missing; safe to run at every start. */
  async migrate(): Promise<void> {
    await this.db.transaction(async (tx) => {
      // Two processes starting together would otherwise race on CREATE … IF NOT EXISTS.
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.schemaName]);
      await tx.query(`CREATE SCHEMA IF NOT EXISTS ${this.s}`);
      await tx.query(`
        CREATE TABLE IF NOT EXISTS ${this.s}.events (
          global_position bigserial PRIMARY KEY,
          transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
          stream_id text NOT NULL,
          stream_revision bigint NOT NULL,
          event_id uuid NOT NULL UNIQUE,
          type text NOT NULL,
          data jsonb NOT NULL,
          metadata jsonb NOT NULL,
          recorded_at timestamptz NOT NULL DEFAULT now(),
          UNIQUE (stream_id, stream_revision)
        )`);
      await tx.query(
        `CREATE INDEX IF NOT EXISTS events_commit_order ON ${this.s}.events (transaction_id, global_position)`,
      );
    });
  }

  /** Appends in one transaction. A duplicate event id fails the append (unique violation). */
  async append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    const result = await this.db.transaction(async (tx) => {
      // 1. Queue behind the other writers of this stream. Unlike a row lock, an advisory
      //    lock is taken before this transaction has an id, so of two writers of a stream
      //    the first to commit also has the lower id, and readAll (ordered by transaction
      //    id) keeps each stream in revision order. A hash collision only makes two
      //    streams queue together.
      await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`${this.schemaName}/${streamId}`]);

      // 2. With the lock held, the stream's last committed revision cannot move.
      const last = await this.lastEvent(tx, streamId);
      const actual = last?.revision ?? 'no_stream';
      if (!meetsExpectation(expected, actual)) throw new WrongExpectedRevisionError(streamId, expected, actual);
      if (events.length === 0) return last ?? { revision: -1, position: { commit: 0n, prepare: 0n } };

      // 3. Insert, numbering revisions on from the last; (stream_id, stream_revision) is unique
      //    should anything bypass the lock.
      const first = (last?.revision ?? -1) + 1;
      const params: unknown[] = [streamId];
      const rows = events.map((event, i) => {
        params.push(first + i, event.id, event.type, JSON.stringify(event.data), JSON.stringify(event.metadata));
        const n = params.length;
        return `($1, $${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}::jsonb, $${n}::jsonb)`;
      });
      const inserted = await tx.query<PositionRow>(
        `INSERT INTO ${this.s}.events (stream_id, stream_revision, event_id, type, data, metadata)
         VALUES ${rows.join(', ')}
         RETURNING transaction_id, global_position`,
        params,
      );
      const position = inserted.map(toPosition).reduce((a, b) => (b.prepare > a.prepare ? b : a));
      return { revision: first + events.length - 1, position };
    });
    if (events.length > 0) this.subscriptions.notifyAppended();
    return result;
  }

  async readStream(streamId: string, { toRevision }: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const rows = await this.db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM ${this.s}.events
       WHERE stream_id = $1 AND ($2::bigint IS NULL OR stream_revision <= $2::bigint)
       ORDER BY stream_revision`,
      [streamId, toRevision ?? null],
    );
    return rows.map(toRecordedEvent);
  }

  /**
   * Events in commit order, up to a high-water mark that only moves forward.
   *
   * Ordering by global_position alone would let a subscriber skip events: a transaction
   * can take a lower sequence number than another yet commit after it, so a reader that
   * has already moved past the higher number never looks back for the lower one.
   *
   * Instead each event carries the id of the transaction that wrote it, and readAll only
   * returns events of transactions below the snapshot's xmin, the oldest transaction still
   * running. Every transaction below xmin has finished, and new transactions always get ids
   * at or above it, so the set of events below xmin never grows behind a reader's back:
   * ordered by (transaction_id, global_position), it is a prefix that only gets longer.
   */
  async readAll({ after, limit }: ReadAllOptions): Promise<RecordedEvent[]> {
    // Every stored position is above (0, 0), so that stands for "from the start".
    const from = after ?? { commit: 0n, prepare: 0n };
    const rows = await this.db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM ${this.s}.events
       WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
         AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
       ORDER BY transaction_id, global_position
       LIMIT $3`,
      [from.commit.toString(), from.prepare.toString(), limit],
    );
    return rows.map(toRecordedEvent);
  }

  subscribeToAll(options: SubscribeOptions): Subscription {
    return this.subscriptions.subscribe(options);
  }

  async headPosition(): Promise<GlobalPosition | undefined> {
    const [row] = await this.db.query<PositionRow>(
      `SELECT transaction_id, global_position FROM ${this.s}.events
       WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
       ORDER BY transaction_id DESC, global_position DESC
       LIMIT 1`,
    );
    return row && toPosition(row);
  }

  /** The events readAll would return after `after`: the same condition, counted. */
  async countEvents(after?: GlobalPosition): Promise<number> {
    const from = after ?? { commit: 0n, prepare: 0n };
    const [row] = await this.db.query<{ count: string }>(
      `SELECT count(*) AS count FROM ${this.s}.events
       WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
         AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())`,
      [from.commit.toString(), from.prepare.toString()],
    );
    return Number(row.count);
  }

  /** Stops the subscriptions; the database is the caller's to close. */
  async close(): Promise<void> {
    await this.subscriptions.stopAll();
  }

  private async lastEvent(tx: SqlQueryable, streamId: string): Promise<AppendResult | undefined> {
    const [row] = await tx.query<PositionRow & { stream_revision: string }>(
      `SELECT stream_revision, transaction_id, global_position FROM ${this.s}.events
       WHERE stream_id = $1 ORDER BY stream_revision DESC LIMIT 1`,
      [streamId],
    );
    return row && { revision: Number(row.stream_revision), position: toPosition(row) };
  }
}

function toPosition(row: PositionRow): GlobalPosition {
  return { commit: BigInt(row.transaction_id), prepare: BigInt(row.global_position) };
}

function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    type: row.type,
    data: row.data,
    metadata: row.metadata,
    streamId: row.stream_id,
    revision: Number(row.stream_revision),
    position: toPosition(row),
    recordedAt: row.recorded_at,
  };
}
