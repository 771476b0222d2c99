import { SqlDatabase, quoteSchema } from '@kcflow/sql';
import { EventsTableStatistics } from './events-table-statistics';
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
  recorded_ms: number;
}

interface AppendRow {
  met: boolean;
  actual: string | null;
  stream_revision: string | null;
  transaction_id: string | null;
  global_position: string | null;
}

/**
 * The append runs as one call of this function, in the implicit transaction of that one
 * statement: a single round trip instead of BEGIN, lock, read, INSERT and COMMIT.
 *
 * 1. It queues behind the other writers of the stream. Unlike a row lock, an advisory lock is
 *    taken before the transaction has an id (it gets one at the INSERT), so of two writers of
 *    a stream the first to commit also has the lower id, and readAll (ordered by transaction
 *    id) keeps each stream in revision order. A hash collision only makes two streams queue
 *    together.
 * 2. With the lock held, the stream's last committed revision cannot move; the read sees it
 *    because every statement of a volatile function takes a fresh snapshot.
 * 3. It inserts, numbering revisions on from the last; (stream_id, stream_revision) is unique
 *    should anything bypass the lock.
 *
 * The events travel as one JSON array: one text for the server to parse, where arrays of JSON
 * texts had every quote escaped by the client and unescaped by the server (bench/micro/
 * pg-command-statements). The answer is one row: the last event appended, or with no events
 * the stream's head. A missed expectation comes back in it (met = false) rather than as an
 * exception, so the caller can name the actual revision.
 *
 * The name carries a version: a changed body gets a new name, and processes of the old and the
 * new code can run side by side during a deploy (v1 took four arrays and answered a row per
 * event; a store migrated by both keeps both functions).
 */
const APPEND_FUNCTION = 'append_events_v2';

/** The expected revision as the function takes it: a revision ≥ 0, or a negative code. */
function encodeExpected(expected: ExpectedRevision): number {
  switch (expected) {
    case 'no_stream':
      return -1;
    case 'any':
      return -2;
    case 'stream_exists':
      return -3;
    default:
      return expected;
  }
}

/** The store's hot statements: append, stream and subscription reads, the head (QueryOptions.reuse). */
const REUSE = { reuse: true } as const;

/**
 * recorded_at travels as milliseconds since the epoch (a float8, read with parseFloat): the
 * driver's parsing of a timestamptz's text cost about 2 µs an event, a tenth of what a relay
 * spends reading one. floor() keeps what a Date holds, the whole milliseconds.
 */
const EVENT_COLUMNS =
  'stream_id, stream_revision, transaction_id, global_position, event_id, type, data, metadata, floor(extract(epoch FROM recorded_at) * 1000)::float8 AS recorded_ms';

/** The event store in PostgreSQL: the same SQL runs on a real server (`pg`) and on PGlite. */
export class PostgresEventStore implements EventStore {
  private readonly db: SqlDatabase;
  private readonly schemaName: string;
  private readonly s: string;
  private readonly subscriptions: PollingSubscriptions;
  /** PGlite only: a server's autovacuum keeps them there. */
  private readonly statistics: EventsTableStatistics | undefined;

  constructor({ db, schema, pollIntervalMs }: PostgresEventStoreOptions) {
    this.db = db;
    this.schemaName = schema;
    this.s = quoteSchema(schema);
    this.subscriptions = new PollingSubscriptions(this, pollIntervalMs);
    this.statistics = db.dialect === 'pglite' ? new EventsTableStatistics(db, `${this.s}.events`) : undefined;
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
      await tx.query(`
        CREATE OR REPLACE FUNCTION ${this.s}.${APPEND_FUNCTION}(
          p_lock text, p_stream text, p_expected bigint, p_events jsonb,
          OUT met boolean, OUT actual bigint, OUT stream_revision bigint, OUT transaction_id xid8, OUT global_position bigint)
        LANGUAGE plpgsql VOLATILE AS $fn$
        BEGIN
          PERFORM pg_advisory_xact_lock(hashtextextended(p_lock, 0));
          SELECT e.stream_revision, e.stream_revision, e.transaction_id, e.global_position
            INTO actual, stream_revision, transaction_id, global_position
            FROM ${this.s}.events e WHERE e.stream_id = p_stream
            ORDER BY e.stream_revision DESC LIMIT 1;
          met := CASE p_expected
            WHEN -1 THEN actual IS NULL
            WHEN -2 THEN true
            WHEN -3 THEN actual IS NOT NULL
            ELSE actual IS NOT DISTINCT FROM p_expected
          END;
          IF NOT met THEN
            stream_revision := NULL; transaction_id := NULL; global_position := NULL;
          ELSIF jsonb_array_length(p_events) > 0 THEN
            WITH inserted AS (
              INSERT INTO ${this.s}.events AS ev (stream_id, stream_revision, event_id, type, data, metadata)
              SELECT p_stream, coalesce(actual, -1) + x.n, (x.e->>'id')::uuid, x.e->>'type', x.e->'data', x.e->'metadata'
              FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(e, n)
              ORDER BY x.n
              RETURNING ev.stream_revision AS r, ev.transaction_id AS t, ev.global_position AS g
            )
            SELECT i.r, i.t, i.g INTO stream_revision, transaction_id, global_position
            FROM inserted i ORDER BY i.r DESC LIMIT 1;
          END IF;
        END
        $fn$`);
    });
    await this.statistics?.load();
  }

  /** Appends in one statement (see APPEND_FUNCTION). A duplicate event id fails the append (unique violation). */
  async append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    const rows = await this.db.query<AppendRow>(`SELECT * FROM ${this.s}.${APPEND_FUNCTION}($1, $2, $3, $4)`, [
      `${this.schemaName}/${streamId}`,
      streamId,
      encodeExpected(expected),
      JSON.stringify(events.map(({ id, type, data, metadata }) => ({ id, type, data, metadata }))),
    ], REUSE);
    const [last] = rows;
    const actual = last.actual === null ? 'no_stream' : Number(last.actual);
    if (!last.met) throw new WrongExpectedRevisionError(streamId, expected, actual);
    if (events.length > 0) {
      this.subscriptions.notifyAppended();
      this.statistics?.appended(events.length);
    }
    // No events appended to a stream that does not exist: nothing to point at.
    if (last.stream_revision === null) return { revision: -1, position: { commit: 0n, prepare: 0n } };
    return { revision: Number(last.stream_revision), position: toPosition(last as PositionRow) };
  }

  async readStream(streamId: string, { fromRevision, toRevision }: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const rows = await this.db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM ${this.s}.events
       WHERE stream_id = $1 AND stream_revision >= $3::bigint AND ($2::bigint IS NULL OR stream_revision <= $2::bigint)
       ORDER BY stream_revision`,
      [streamId, toRevision ?? null, Math.max(0, fromRevision ?? 0)],
      REUSE,
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
  async readAll({ after, limit, streamPrefix = '' }: ReadAllOptions): Promise<RecordedEvent[]> {
    // Every stored position is above (0, 0), so that stands for "from the start".
    const from = after ?? { commit: 0n, prepare: 0n };
    const rows = await this.db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM ${this.s}.events
       WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
         AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
         AND starts_with(stream_id, $4)
       ORDER BY transaction_id, global_position
       LIMIT $3`,
      [from.commit.toString(), from.prepare.toString(), limit, streamPrefix],
      REUSE,
    );
    return rows.map(toRecordedEvent);
  }

  subscribeToAll(options: SubscribeOptions): Subscription {
    return this.subscriptions.subscribe(options);
  }

  headPosition(): Promise<GlobalPosition | undefined> {
    return this.lastPosition('WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())');
  }

  /** The newest event of all, above readAll's high-water mark too. */
  lastCommittedPosition(): Promise<GlobalPosition | undefined> {
    return this.lastPosition('');
  }

  private async lastPosition(where: string): Promise<GlobalPosition | undefined> {
    const [row] = await this.db.query<PositionRow>(
      `SELECT transaction_id, global_position FROM ${this.s}.events ${where}
       ORDER BY transaction_id DESC, global_position DESC
       LIMIT 1`,
      [],
      REUSE, // a caught-up subscription asks for the head at every poll
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
    await this.statistics?.settled();
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
    recordedAt: new Date(row.recorded_ms),
  };
}
