import { PostgresEventStore } from '@kcflow/event-store';
import { PgDatabase, quoteSchema } from '@kcflow/sql';
import { env } from './env';
import { APPLICATIONS_PER_PROGRAMME, EVENTS_PER_APPLICATION, GeneratedEvent, LifecycleGenerator, Stage } from './lifecycles';
import { log } from './report';

export interface SeededStore {
  schema: string;
  events: number;
  applications: number;
  programmes: number;
  seconds: number;
  stages: Record<Stage, number>;
  types: Record<string, number>;
}

const ROWS_PER_INSERT = 2_000;
const APPLICATIONS_PER_CHUNK = 4_000;

/**
 * Fills `schema` (created with the store's own migrate(), so the same table and indexes) with
 * `count` events of generated lifecycles. Rows go in with multi-row INSERTs, one at a time and
 * in simulated-time order, so global order keeps every stream in revision order exactly as
 * appends would; that is about ten times faster than an append per command, which matters
 * for a million events within the suite's 15 minutes.
 */
export async function seedEventStore(schema: string, count: number, seed = 2024): Promise<SeededStore> {
  const started = Date.now();
  const db = new PgDatabase(env.pgUrl, 2);
  const types: Record<string, number> = {};
  try {
    await new PostgresEventStore({ db, schema }).migrate();
    const programmes = Math.max(4, Math.ceil(count / EVENTS_PER_APPLICATION / APPLICATIONS_PER_PROGRAMME));
    const generator = new LifecycleGenerator({ seed, programmes, prefix: schema.replace(/^bench_/, '').toUpperCase() });
    const table = `${quoteSchema(schema)}.events`;
    let written = 0;
    let nextReport = 0.1;
    let pending: Promise<void> = Promise.resolve();

    const insert = async (rows: readonly GeneratedEvent[]) => {
      for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
        const slice = rows.slice(i, i + ROWS_PER_INSERT);
        await db.query(
          `INSERT INTO ${table} (stream_id, stream_revision, event_id, type, data, metadata)
           SELECT stream_id, stream_revision, event_id, type, data, metadata
           FROM unnest($1::text[], $2::bigint[], $3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[])
             WITH ORDINALITY AS e(stream_id, stream_revision, event_id, type, data, metadata, n)
           ORDER BY n`,
          [
            slice.map((e) => e.streamId),
            slice.map((e) => e.revision),
            slice.map((e) => e.id),
            slice.map((e) => e.type),
            slice.map((e) => JSON.stringify(e.data)),
            slice.map((e) => JSON.stringify(e.metadata)),
          ],
        );
      }
    };
    const take = (rows: GeneratedEvent[]) => {
      const kept = rows.slice(0, count - written);
      for (const row of kept) types[row.type] = (types[row.type] ?? 0) + 1;
      written += kept.length;
      return kept;
    };

    await insert(take(generator.openProgrammes()));
    while (written < count) {
      // Generate the next chunk while the previous one is being inserted; inserts stay in order.
      const rows = take(generator.chunk(APPLICATIONS_PER_CHUNK));
      generator.forgetApplications(rows);
      await pending;
      pending = insert(rows);
      if (written / count >= nextReport) {
        log(`    generated ${written.toLocaleString('en-US')} / ${count.toLocaleString('en-US')} events (${((Date.now() - started) / 1000).toFixed(0)} s)`);
        nextReport += 0.1;
      }
    }
    await pending;
    await db.query(`ANALYZE ${table}`);
    return {
      schema,
      events: written,
      applications: generator.applications,
      programmes,
      seconds: (Date.now() - started) / 1000,
      stages: generator.stages,
      types,
    };
  } finally {
    await db.close();
  }
}
