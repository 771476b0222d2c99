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

const EVENT_COLUMNS = 'stream_id, stream_revision, transaction_id, global_position, event_id, type, data, metadata, recorded_at';

/**
 * The event store in PostgreSQL: the same SQL runs on a real server (`pg`) and on PGlite.
 *
 * `streams` holds each stream's last revision. An append first moves that row forward, on
 * the condition the writer expects; the row lock this takes makes concurrent writers of
 * one stream wait for each other, and the loser finds the condition no longer holds.
 */
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
        CREATE TABLE IF NOT EXISTS ${this.s}.streams (
          stream_id text PRIMARY KEY,
          revision bigint NOT NULL
        )`);
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
      await tx.query(`CREATE INDEX IF NOT EXISTS events_commit_order ON ${this.s}.events (transaction_id, global_position)`);
    });
  }

  /**
   * Appends in one transaction. A duplicate event id fails the append (unique violation).
   * Appending no events writes nothing: it checks the expectation and returns the stream's
   * revision (-1 if it does not exist) and its last event's position ((0, 0) if none).
   */
  async append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    if (events.length === 0) return this.checkExpectation(streamId, expected);

    const result = await this.db.transaction(async (tx) => {
      const revision = await this.claimRevisions(tx, streamId, expected, events.length);
      const first = revision - events.length + 1;
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
      const positions = inserted.map(toPosition);
      return { revision, position: positions.reduce((a, b) => (b.prepare > a.prepare ? b : a)) };
    });
    this.subscriptions.notifyAppended();
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

  /** Stops the subscriptions; the database is the caller's to close. */
  async close(): Promise<void> {
    await this.subscriptions.stopAll();
  }

  /** Moves the stream's revision forward by `count` if it stands as expected; returns the new last revision. */
  private async claimRevisions(tx: SqlQueryable, streamId: string, expected: ExpectedRevision, count: number): Promise<number> {
    const streams = `${this.s}.streams`;
    const params = [streamId, count];
    let claimed: { revision: string }[];
    if (expected === 'any') {
      claimed = await tx.query(
        `INSERT INTO ${streams} AS s (stream_id, revision) VALUES ($1, $2::bigint - 1)
         ON CONFLICT (stream_id) DO UPDATE SET revision = s.revision + $2::bigint
         RETURNING revision`,
        params,
      );
    } else if (expected === 'no_stream') {
      claimed = await tx.query(
        `INSERT INTO ${streams} (stream_id, revision) VALUES ($1, $2::bigint - 1)
         ON CONFLICT (stream_id) DO NOTHING
         RETURNING revision`,
        params,
      );
    } else if (expected === 'stream_exists') {
      claimed = await tx.query(
        `UPDATE ${streams} SET revision = revision + $2::bigint WHERE stream_id = $1 RETURNING revision`,
        params,
      );
    } else {
      claimed = await tx.query(
        `UPDATE ${streams} SET revision = revision + $2::bigint WHERE stream_id = $1 AND revision = $3 RETURNING revision`,
        [...params, expected],
      );
    }
    if (claimed.length === 0) {
      const last = await this.lastEvent(tx, streamId);
      throw new WrongExpectedRevisionError(streamId, expected, last?.revision ?? 'no_stream');
    }
    return Number(claimed[0].revision);
  }

  private async checkExpectation(streamId: string, expected: ExpectedRevision): Promise<AppendResult> {
    const last = await this.lastEvent(this.db, streamId);
    if (!meetsExpectation(expected, last?.revision ?? 'no_stream')) {
      throw new WrongExpectedRevisionError(streamId, expected, last?.revision ?? 'no_stream');
    }
    return last ?? { revision: -1, position: { commit: 0n, prepare: 0n } };
  }

  private async lastEvent(db: SqlQueryable, streamId: string): Promise<AppendResult | undefined> {
    const [row] = await db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM ${this.s}.events WHERE stream_id = $1 ORDER BY stream_revision DESC LIMIT 1`,
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
