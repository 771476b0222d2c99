import { RecordedEvent } from '@kcflow/event-store';
import { SqlQueryable, quoteSchema } from '@kcflow/sql';

/**
 * A read model fed from the event store. The ProjectionRunner calls `handle` for each event
 * inside the transaction that also saves the projection's checkpoint, so rows and checkpoint
 * move together. Delivery is still at-least-once (a crash after COMMIT but before the
 * subscription learns of it, two runners, a checkpoint moved back for a rebuild), so every
 * handler must give the same rows when an event comes again: see `firstDelivery`.
 */
export interface Projection {
  readonly name: string;
  /** Every table the projection owns, so that a rebuild can drop them and replay. */
  readonly tables: readonly string[];
  /** Creates the tables if they are missing; safe to run at every start. */
  migrate(db: SqlQueryable, schema: string): Promise<void>;
  handle(tx: SqlQueryable, event: RecordedEvent, schema: string): Promise<void>;
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

/** Marks the event applied and says whether this is its first delivery (apply it) or not (skip). */
export async function firstDelivery(tx: SqlQueryable, schema: string, projectionName: string, event: RecordedEvent): Promise<boolean> {
  const table = `${quoteSchema(schema)}.${streamRevisionsTable(projectionName)}`;
  const rows = await tx.query(
    `INSERT INTO ${table} AS applied (stream_id, revision) VALUES ($1, $2)
     ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision WHERE applied.revision < excluded.revision
     RETURNING 1`,
    [event.streamId, event.revision],
  );
  return rows.length === 1;
}

/** The id in a stream name such as `application-<id>`, or undefined for another kind of stream. */
export function idInStream(streamId: string, prefix: 'application' | 'programme'): string | undefined {
  return streamId.startsWith(`${prefix}-`) ? streamId.slice(prefix.length + 1) : undefined;
}

/** Time the event was decided, cut to milliseconds so it round-trips through JS Dates (cursors). */
export function occurredAt(event: RecordedEvent): string {
  const time = new Date(event.metadata.occurredAt);
  return (Number.isNaN(time.getTime()) ? event.recordedAt : time).toISOString();
}
