/**
 * A what-if for RESULTS.md, not KCFlow's code: PostgresEventStore.append's five statements
 * (BEGIN, advisory lock, last revision, INSERT, COMMIT) as one call of a PL/pgSQL function, in
 * one implicit transaction. Inside a volatile function every statement takes a fresh snapshot,
 * so the last-revision read after the lock still sees a writer that committed while this one
 * waited, and the lock is still taken before the transaction gets its id (the global-order
 * argument of postgres-event-store.ts holds unchanged).
 *
 *   BENCH_PROTOTYPE=1 npm run bench:appends     (adds it as a fourth contender)
 */
import { Pool } from 'pg';
import { NewEvent, PostgresEventStore, WrongExpectedRevisionError } from '@kcflow/event-store';
import { PgDatabase, quoteSchema } from '@kcflow/sql';
import { env } from '../lib/env';

export async function oneStatementAppender(schema: string, concurrency: number): Promise<{ append: (streamId: string, events: NewEvent[]) => Promise<unknown>; close: () => Promise<void> }> {
  const s = quoteSchema(schema);
  const setup = new PgDatabase(env.pgUrl, 1);
  await new PostgresEventStore({ db: setup, schema }).migrate();
  // p_expected: a revision ≥ 0, -1 for "no stream", -2 for "any".
  await setup.query(`
    CREATE OR REPLACE FUNCTION ${s}.append_events(p_lock text, p_stream text, p_expected bigint, p_ids uuid[], p_types text[], p_data jsonb[], p_metadata jsonb[])
    RETURNS TABLE (actual bigint, revision bigint, transaction_id xid8, global_position bigint)
    LANGUAGE plpgsql AS $fn$
    DECLARE last_revision bigint;
    BEGIN
      PERFORM pg_advisory_xact_lock(hashtextextended(p_lock, 0));
      SELECT e.stream_revision INTO last_revision FROM ${s}.events e WHERE e.stream_id = p_stream ORDER BY e.stream_revision DESC LIMIT 1;
      last_revision := coalesce(last_revision, -1);
      IF p_expected <> -2 AND p_expected <> last_revision THEN
        RETURN QUERY SELECT last_revision, NULL::bigint, NULL::xid8, NULL::bigint;
        RETURN;
      END IF;
      RETURN QUERY
        WITH inserted AS (
          INSERT INTO ${s}.events (stream_id, stream_revision, event_id, type, data, metadata)
          SELECT p_stream, last_revision + x.n, x.id, x.t, x.d, x.m
          FROM unnest(p_ids, p_types, p_data, p_metadata) WITH ORDINALITY AS x(id, t, d, m, n)
          ORDER BY x.n
          RETURNING events.stream_revision, events.transaction_id, events.global_position
        )
        SELECT last_revision, i.stream_revision, i.transaction_id, i.global_position FROM inserted i;
    END
    $fn$`);
  await setup.close();
  const pool = new Pool({ connectionString: env.pgUrl, max: concurrency });
  return {
    append: async (streamId, events) => {
      const { rows } = await pool.query<{ actual: string; revision: string | null }>(`SELECT * FROM ${s}.append_events($1, $2, $3, $4, $5, $6, $7)`, [
        `${schema}/${streamId}`,
        streamId,
        -1,
        events.map((e) => e.id),
        events.map((e) => e.type),
        events.map((e) => JSON.stringify(e.data)),
        events.map((e) => JSON.stringify(e.metadata)),
      ]);
      if (rows[0]?.revision === null) throw new WrongExpectedRevisionError(streamId, 'no_stream', Number(rows[0].actual));
      return rows;
    },
    close: () => pool.end(),
  };
}
