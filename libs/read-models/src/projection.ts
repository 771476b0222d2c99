import { RecordedEvent } from '@kcflow/event-store';
import { SqlDatabase, SqlQueryable, quoteSchema } from '@kcflow/sql';

/**
 * A read model fed from the event store. The ProjectionRunner hands it the events a batch at a
 * time (handleBatch), inside the transaction that also saves the projection's checkpoint, so
 * rows and checkpoint move together; a rebuild folds many reads before it writes (rebuild.ts).
 * Delivery is still at-least-once (a crash after COMMIT but before the subscription learns of
 * it, two runners, a checkpoint moved back for a rebuild), so a projection must give the same
 * rows when events come again: see `firstDeliveries`.
 */
export interface Projection {
  readonly name: string;
  /** Every table the projection owns, so that a rebuild can drop them and replay. */
  readonly tables: readonly string[];
  /**
   * Creates the tables if they are missing, with their primary keys, which the folds' writes
   * need; safe to run at every start. migrateProjection adds the indexes.
   */
  createTables(db: SqlQueryable, schema: string): Promise<void>;
  /**
   * Creates the secondary indexes if they are missing. Apart from the tables so that a rebuild
   * can build them once, on full tables, rather than insert into them row by row.
   */
  createIndexes?(db: SqlQueryable, schema: string): Promise<void>;
  /** The events that change its rows: only theirs move its stream marks. */
  applies(event: RecordedEvent): boolean;
  /** An empty fold, to take events delivered for the first time and write what they change. */
  fold(): ProjectionFold;
}

/**
 * The events of a batch folded in memory into the rows they change, then written with a few
 * set-wise statements rather than a few per event: per-statement round trips were nearly all
 * of a rebuild's time (bench/RESULTS.md, section 3). The rows must not depend on how the events
 * are cut into folds; the contract tests cut the same events in several ways.
 */
export interface ProjectionFold {
  /** Takes the next event, in global order, delivered for the first time. */
  add(event: RecordedEvent): void;
  /** Rows held in memory: what a rebuild bounds (rebuildProjections, rowsPerWrite). */
  readonly rows: number;
  /** Writes the rows: UPDATEs those that exist, INSERTs those the events create. */
  write(tx: SqlQueryable, schema: string): Promise<void>;
}

/** Creates a projection's tables and indexes if they are missing; safe to run at every start. */
export async function migrateProjection(db: SqlQueryable, schema: string, projection: Projection): Promise<void> {
  await projection.createTables(db, schema);
  await projection.createIndexes?.(db, schema);
}

/** Applies a batch of events: marks the first deliveries, folds them and writes the rows. */
export async function handleBatch(tx: SqlQueryable, projection: Projection, events: readonly RecordedEvent[], schema: string): Promise<void> {
  const fold = projection.fold();
  for (const event of await firstDeliveries(tx, schema, projection.name, events.filter((event) => projection.applies(event)))) fold.add(event);
  await fold.write(tx, schema);
}

/**
 * The one idempotency technique of the read models: each projection keeps, per stream, the
 * last revision it applied (`<projection>_stream_revisions`). An event is applied only if
 * its revision is above it, and the mark moves in the same transaction as the rows. Events of
 * a stream arrive in revision order, so a redelivered event — or a whole batch replayed from
 * an older checkpoint — finds its revision already marked and changes nothing. This lets
 * running sums (`committed = committed + amount`) stay plain additions.
 */
export function streamRevisionsTable(projectionName: string): string {
  return `${projectionName}_stream_revisions`;
}

export async function migrateStreamRevisions(db: SqlQueryable, schema: string, projectionName: string): Promise<void> {
  await db.query(
    `CREATE TABLE IF NOT EXISTS ${quoteSchema(schema)}.${streamRevisionsTable(projectionName)} (
       stream_id text PRIMARY KEY,
       revision integer NOT NULL
     )`,
  );
}

/**
 * Marks the events applied and returns those delivered for the first time, in their order:
 * the ones to apply. Pass only the events the projection applies, so that its marks move
 * with its rows. One statement: the marks as they stood (the CTE `before` reads the snapshot
 * taken before the upsert beside it, as PostgreSQL runs every part of a WITH on one
 * snapshot), and the upsert of each stream's highest revision in the batch.
 */
export async function firstDeliveries(
  tx: SqlQueryable,
  schema: string,
  projectionName: string,
  events: readonly RecordedEvent[],
): Promise<RecordedEvent[]> {
  if (events.length === 0) return [];
  const highest = new Map<string, number>();
  for (const event of events) highest.set(event.streamId, Math.max(highest.get(event.streamId) ?? -1, event.revision));
  const table = `${quoteSchema(schema)}.${streamRevisionsTable(projectionName)}`;
  const before = await tx.query<{ stream_id: string; revision: number }>(
    `WITH before AS (SELECT stream_id, revision FROM ${table} WHERE stream_id = ANY($1::text[])),
          marked AS (${upsertMarks(table)})
     SELECT stream_id, revision FROM before`,
    [[...highest.keys()], [...highest.values()]],
  );
  const marks = new Map(before.map((row) => [row.stream_id, row.revision]));
  return events.filter((event) => firstDelivery(marks, event));
}

/** Whether `event` is above its stream's mark in `marks`; if so, it moves the mark. */
export function firstDelivery(marks: Map<string, number>, event: RecordedEvent): boolean {
  if (event.revision <= (marks.get(event.streamId) ?? -1)) return false;
  marks.set(event.streamId, event.revision);
  return true;
}

/**
 * Writes marks kept in memory (stream → highest revision applied): a rebuild's, which meets
 * each event once (rebuild.ts). The marks of `newStreams` do not exist yet: they are inserted
 * without the upsert's lookup.
 */
export async function saveMarks(
  tx: SqlQueryable,
  schema: string,
  projectionName: string,
  marks: ReadonlyMap<string, number>,
  newStreams: ReadonlySet<string>,
): Promise<void> {
  const table = `${quoteSchema(schema)}.${streamRevisionsTable(projectionName)}`;
  const [inserted, moved] = [new Map<string, number>(), new Map<string, number>()];
  for (const [stream, revision] of marks) (newStreams.has(stream) ? inserted : moved).set(stream, revision);
  if (inserted.size > 0) {
    await tx.query(`INSERT INTO ${table} (stream_id, revision) SELECT * FROM unnest($1::text[], $2::int[])`, [[...inserted.keys()], [...inserted.values()]]);
  }
  if (moved.size > 0) await tx.query(upsertMarks(table), [[...moved.keys()], [...moved.values()]]);
}

/** Each stream's mark ($1) moved up to its revision ($2), never down. */
function upsertMarks(table: string): string {
  return `INSERT INTO ${table} AS applied (stream_id, revision) SELECT * FROM unnest($1::text[], $2::int[])
   ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision WHERE applied.revision < excluded.revision`;
}

/**
 * The event a batch failed on. A set-wise statement fails for the whole batch, so the batch is
 * applied again one event at a time, in a transaction that is always rolled back, until one
 * fails. Undefined if none fails alone: the failure was not an event's (the database went away).
 */
export async function failingEvent(
  db: SqlDatabase,
  projection: Projection,
  schema: string,
  events: readonly RecordedEvent[],
): Promise<RecordedEvent | undefined> {
  let failing: RecordedEvent | undefined;
  await db
    .transaction(async (tx) => {
      for (const event of events) {
        try {
          await handleBatch(tx, projection, [event], schema);
        } catch {
          failing = event;
          break;
        }
      }
      throw new Error('rolled back on purpose');
    })
    .catch(() => undefined);
  return failing;
}

/**
 * `unnest($1::text[], $2::integer[], …) AS <alias>(<columns>)` over `rows`, and its parameters:
 * many rows in one statement, one array per column. `undefined` values become NULL.
 *
 * An `UPDATE t … FROM unnest(…) AS u WHERE t.key = u.key` also says `AND t.key = ANY($1)`
 * (the key is the first column): without it PostgreSQL tends to scan the whole table for a
 * hash join, a cost that grows with the table rather than with the batch.
 */
export function unnestRows<Row>(
  alias: string,
  rows: readonly Row[],
  columns: Record<string, [sqlType: string, value: (row: Row) => unknown]>,
): { sql: string; params: unknown[] } {
  const entries = Object.entries(columns);
  const arrays = entries.map(([, [type]], i) => `$${i + 1}::${type}[]`).join(', ');
  return {
    sql: `unnest(${arrays}) AS ${alias}(${entries.map(([name]) => name).join(', ')})`,
    params: entries.map(([, [, value]]) => rows.map((row) => value(row) ?? null)),
  };
}

/**
 * Inserts `rows` in one statement, one column per entry of `columns`; `onConflict` is the
 * statement's ON CONFLICT clause (without the words), if any.
 */
export async function insertRows<Row>(
  tx: SqlQueryable,
  table: string,
  rows: readonly Row[],
  columns: Record<string, [sqlType: string, value: (row: Row) => unknown]>,
  onConflict?: string,
): Promise<void> {
  if (rows.length === 0) return;
  const { sql, params } = unnestRows('n', rows, columns);
  await tx.query(
    `INSERT INTO ${table} (${Object.keys(columns).join(', ')}) SELECT * FROM ${sql}${onConflict ? ` ON CONFLICT ${onConflict}` : ''}`,
    params,
  );
}

/** The id in a stream name such as `application-<id>`, or undefined for another kind of stream. */
export function idInStream(streamId: string, prefix: 'application' | 'programme'): string | undefined {
  return streamId.startsWith(`${prefix}-`) ? streamId.slice(prefix.length + 1) : undefined;
}

/** Time the event was decided, cut to milliseconds so it round-trips through JS Dates (cursors). */
export function occurredAt(event: RecordedEvent): string {
  return timeOf(event.metadata.occurredAt, event.recordedAt);
}

/** occurredAt from the two fields it reads, for a fold that keeps them rather than the event. */
export function timeOf(occurred: string, recordedAt: Date): string {
  const time = new Date(occurred);
  return (Number.isNaN(time.getTime()) ? recordedAt : time).toISOString();
}
