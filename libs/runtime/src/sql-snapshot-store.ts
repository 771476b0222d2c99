import { quoteSchema, SqlDatabase } from '@kcflow/sql';
import type { Snapshot, SnapshotStore } from '@kcflow/workflow';

interface SnapshotRow {
  stream_id: string;
  fold_version: string;
  revision: string;
  event_hash: string;
  state: string;
  seal: string;
}

/**
 * Snapshots in a table of a PostgreSQL or PGlite schema, beside the events they are derived
 * from. The state is kept as text, byte for byte as sealed: jsonb would reorder its keys and
 * the seal could then only be checked by re-serialising the whole state.
 */
export class SqlSnapshotStore implements SnapshotStore {
  private readonly s: string;

  constructor(
    private readonly db: SqlDatabase,
    private readonly schema: string,
  ) {
    this.s = quoteSchema(schema);
  }

  /** Creates the schema and table if they are missing; safe to run at every start. */
  async migrate(): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${this.schema}.snapshots`]);
      await tx.query(`CREATE SCHEMA IF NOT EXISTS ${this.s}`);
      await tx.query(`
        CREATE TABLE IF NOT EXISTS ${this.s}.snapshots (
          stream_id text NOT NULL,
          fold_version text NOT NULL,
          revision bigint NOT NULL,
          event_hash text NOT NULL,
          state text NOT NULL,
          seal text NOT NULL,
          taken_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (stream_id, fold_version, revision)
        )`);
    });
  }

  async latest(streamId: string, foldVersion: string, atMost?: number): Promise<Snapshot | undefined> {
    const [row] = await this.db.query<SnapshotRow>(
      `SELECT stream_id, fold_version, revision, event_hash, state, seal FROM ${this.s}.snapshots
       WHERE stream_id = $1 AND fold_version = $2 AND ($3::bigint IS NULL OR revision <= $3::bigint)
       ORDER BY revision DESC LIMIT 1`,
      [streamId, foldVersion, atMost ?? null],
    );
    return row && toSnapshot(row);
  }

  async forStream(streamId: string): Promise<Snapshot[]> {
    const rows = await this.db.query<SnapshotRow>(
      `SELECT stream_id, fold_version, revision, event_hash, state, seal FROM ${this.s}.snapshots
       WHERE stream_id = $1 ORDER BY revision, fold_version`,
      [streamId],
    );
    return rows.map(toSnapshot);
  }

  async save(snapshots: readonly Snapshot[]): Promise<void> {
    if (snapshots.length === 0) return;
    await this.db.query(
      `INSERT INTO ${this.s}.snapshots (stream_id, fold_version, revision, event_hash, state, seal)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[])
       ON CONFLICT (stream_id, fold_version, revision) DO UPDATE
         SET event_hash = excluded.event_hash, state = excluded.state, seal = excluded.seal, taken_at = now()`,
      [
        snapshots.map((s) => s.streamId),
        snapshots.map((s) => s.foldVersion),
        snapshots.map((s) => s.revision),
        snapshots.map((s) => s.eventHash),
        snapshots.map((s) => s.state),
        snapshots.map((s) => s.seal),
      ],
    );
  }
}

function toSnapshot(row: SnapshotRow): Snapshot {
  return {
    streamId: row.stream_id,
    foldVersion: row.fold_version,
    revision: Number(row.revision),
    eventHash: row.event_hash,
    state: row.state,
    seal: row.seal,
  };
}
