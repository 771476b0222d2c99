/**
 * 3. Projection rebuild: `npm run projections:rebuild -- all` (the real script, as a child
 * process: one pass over the events for every projection) over a store of BENCH_EVENTS
 * generated events into fresh PostgreSQL read-model tables, then the script once per
 * projection, against a plain ordered scan of the same events table.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_PROJECTIONS } from '@kcflow/read-models';
import { PgDatabase } from '@kcflow/sql';
import { PostgresEventStore, GlobalPosition } from '@kcflow/event-store';
import { DIST, env, uniqueName } from '../lib/env';
import { eventSchema } from '../lib/event-schema';
import { dropSchemas } from '../lib/pg';
import { startNode, watchMemory } from '../lib/proc';
import { Report, log } from '../lib/report';
import { plainScan } from '../lib/scan';
import { fmt } from '../lib/stats';

const BATCH = 500; // the plain scan's page; the rebuild uses its own default batch

export async function main(): Promise<void> {
  const report = new Report('rebuild', '3. Projection rebuild');
  const store = await eventSchema(report, env.events);
  const readSchema = uniqueName('read');
  try {
    report.setting('projections', ALL_PROJECTIONS.map((p) => p.name).join(', '));
    report.setting('scan page size', BATCH);

    // Baseline: every row in commit order, keyset pages of 500, rows parsed.
    // A first pass warms the buffers, as they are for the rebuild that follows the scans.
    await plainScan(store.schema, BATCH);
    const scan = await plainScan(store.schema, BATCH);
    report.add({ name: 'plain ordered scan of the events table (pg, keyset pages of 500)', value: scan.events / scan.seconds, unit: 'events/s', isBaseline: true, note: `${fmt(scan.events)} events in ${scan.seconds.toFixed(1)} s` });
    const adapter = await adapterScan(store.schema);
    report.add({
      name: 'the same scan through PostgresEventStore.readAll',
      value: adapter.events / adapter.seconds,
      unit: 'events/s',
      baselines: [{ name: 'plain scan', value: scan.events / scan.seconds }],
      note: `${fmt(adapter.events)} events in ${adapter.seconds.toFixed(1)} s`,
    });

    const scanRate = scan.events / scan.seconds;
    const started = Date.now();
    const output = await runRebuildScript(store.schema, readSchema, 'all');
    const wall = (Date.now() - started) / 1000;
    // One pass: each projection's line gives the time until it was switched over; the last is the whole rebuild.
    const all = replayedLines(output.text);
    if (all.length !== ALL_PROJECTIONS.length) throw new Error(`unexpected rebuild output:\n${output.text}`);
    const replaySeconds = Math.max(...all.map((p) => p.seconds));
    const rate = store.events / replaySeconds;
    report.add({
      name: `rebuild of all read models (${ALL_PROJECTIONS.length} projections, one pass)`,
      value: rate,
      unit: 'events/s',
      baselines: [{ name: 'plain scan', value: scanRate }],
      bars: [{ text: '≥ 50,000 events/s', met: rate >= 50_000 }],
      note: `${fmt(store.events)} events in ${replaySeconds.toFixed(1)} s (${wall.toFixed(1)} s with process start)`,
    });
    report.add({
      name: 'peak RSS of the rebuild process',
      value: output.peakMb,
      unit: 'MB',
      baselines: [{ name: 'the 300 MB budget of api and worker', value: 300 }],
      note: 'VmHWM of node dist/scripts/projections-rebuild.js all',
    });
    for (const { name } of ALL_PROJECTIONS) {
      const [alone] = replayedLines((await runRebuildScript(store.schema, readSchema, name)).text);
      report.add({ name: `rebuild of ${name} alone`, value: alone.events / alone.seconds, unit: 'events/s', baselines: [{ name: 'plain scan', value: scanRate }], note: `${alone.seconds.toFixed(1)} s` });
    }
  } finally {
    await dropSchemas([readSchema]);
    await store.release();
  }
  report.finish();
}

async function adapterScan(schema: string): Promise<{ events: number; seconds: number }> {
  const db = new PgDatabase(env.pgUrl, 1);
  const store = new PostgresEventStore({ db, schema });
  const started = process.hrtime.bigint();
  let events = 0;
  let after: GlobalPosition | undefined;
  try {
    for (;;) {
      const batch = await store.readAll({ after, limit: BATCH });
      if (batch.length === 0) break;
      events += batch.length;
      after = batch[batch.length - 1].position;
    }
  } finally {
    await store.close();
    await db.close();
  }
  return { events, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/** `<projection>: <n> events replayed in <s> s` lines of the script's output. */
function replayedLines(text: string): { name: string; events: number; seconds: number }[] {
  return [...text.matchAll(/^(\w+): (\d+) events replayed in ([\d.]+) s/gm)].map((m) => ({ name: m[1], events: Number(m[2]), seconds: Number(m[3]) }));
}

/** The real rebuild script, as an operator runs it, on the generated store. */
async function runRebuildScript(eventSchemaName: string, readSchema: string, projection: string): Promise<{ text: string; peakMb: number }> {
  const childEnv = {
    EVENT_STORE: 'postgres',
    EVENT_STORE_URL: env.pgUrl,
    EVENT_STORE_SCHEMA: eventSchemaName,
    READ_MODEL_SCHEMA: readSchema,
    LOG_LEVEL: 'warn',
  };
  log(`  running: ${Object.entries(childEnv).map(([k, v]) => `${k}=${v}`).join(' ')} node dist/scripts/projections-rebuild.js ${projection}`);
  const child = startNode('rebuild-script', join(DIST, 'scripts/projections-rebuild.js'), [projection], childEnv);
  const memory = watchMemory(child, 200);
  const code = await child.exited;
  memory.stop();
  const text = readFileSync(child.logFile, 'utf8');
  if (code !== 0) throw new Error(`the rebuild script exited with ${code}:\n${text.slice(-3000)}`);
  return { text, peakMb: memory.last()?.peakMb ?? Number.NaN };
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
