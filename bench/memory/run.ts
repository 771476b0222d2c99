/**
 * 6. Memory: the built api and worker as separate processes on PostgreSQL (the production
 * topology), on the generated store. The worker rebuilds the read models from nothing (it
 * starts on an empty read-model schema, so it replays every event), the api rebuilds each
 * projection in-process (POST /projections/:name/rebuild), then 32 connections send commands
 * for BENCH_MEMORY_LOAD_SECONDS while the worker projects them. RSS of both is read from
 * /proc at the end; the baseline is each process's RSS right after start-up. The api is the
 * bench variant of main.js (bench/http/server.ts: two do-nothing routes more) so that the
 * load has its framework ceiling measured in the same process.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { quoteSchema } from '@kcflow/sql';
import { ALL_PROJECTIONS } from '@kcflow/read-models';
import { DIST, env, uniqueName } from '../lib/env';
import { eventSchema } from '../lib/event-schema';
import { dropSchemas, withAdmin } from '../lib/pg';
import { Child, memoryOf, startNode, stopChild, tail, waitForHttp, watchMemory } from '../lib/proc';
import { Report, log } from '../lib/report';
import { fmt } from '../lib/stats';
import { tokens } from '../lib/tokens';
import { plainScan } from '../lib/scan';
import { ceilingLoad, commandLoad, openProgrammes, summary } from '../http/load';
import { API_ENV } from '../http/run';

async function applied(readSchema: string): Promise<Map<string, number>> {
  return withAdmin(async (client) => {
    const exists = (await client.query(`SELECT to_regclass($1) AS t`, [`${readSchema}.projection_checkpoints`])).rows[0].t;
    if (!exists) return new Map();
    const rows = (await client.query<{ name: string; events_applied: string }>(`SELECT name, events_applied FROM ${quoteSchema(readSchema)}.projection_checkpoints`)).rows;
    return new Map(rows.map((r) => [r.name, Number(r.events_applied)]));
  });
}

async function untilCaughtUp(readSchema: string, events: number, worker: Child, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastLog = Date.now();
  for (;;) {
    const counts = await applied(readSchema);
    if (ALL_PROJECTIONS.every((p) => (counts.get(p.name) ?? 0) >= events)) return;
    if (worker.process.exitCode !== null) throw new Error(`the worker exited:\n${tail(worker)}`);
    if (Date.now() > deadline) throw new Error(`the worker did not catch up within ${timeoutMs / 1000} s: ${JSON.stringify([...counts])}`);
    if (Date.now() - lastLog > 15_000) {
      log(`    worker replaying: ${ALL_PROJECTIONS.map((p) => `${p.name} ${fmt(counts.get(p.name) ?? 0)}`).join(', ')} of ${fmt(events)}`);
      lastLog = Date.now();
    }
    await sleep(500);
  }
}

/** As docker/Dockerfile runs both processes (its NODE_OPTIONS): the heap cap is part of the production setting measured. */
const IMAGE_NODE_FLAGS = ['--max-old-space-size=160'];

export async function main(): Promise<void> {
  const report = new Report('memory', '6. Memory of the api and the worker');
  const store = await eventSchema(report, env.events);
  const readSchema = uniqueName('mem_read');
  const port = 3920;
  const base = `http://127.0.0.1:${port}`;
  const common = { EVENT_STORE: 'postgres', EVENT_STORE_URL: env.pgUrl, EVENT_STORE_SCHEMA: store.schema, READ_MODEL_SCHEMA: readSchema, ...API_ENV };
  report.setting('processes', `${['dist/apps/worker/src/main.js', 'dist/bench/http/server.js (= dist/apps/api/src/main.js + two do-nothing routes; PROJECTIONS_IN_PROCESS=false)'].map((script) => `node ${IMAGE_NODE_FLAGS.join(' ')} ${script}`).join(' and ')}, ${JSON.stringify(common)}`);
  let worker: Child | undefined;
  let api: Child | undefined;
  try {
    await plainScan(store.schema, 500);
    const scan = await plainScan(store.schema, 500);
    const scanRate = scan.events / scan.seconds;
    report.add({ name: 'plain ordered scan of the events table', value: scanRate, unit: 'events/s', isBaseline: true });
    worker = startNode('memory-worker', join(DIST, 'apps/worker/src/main.js'), [], common, IMAGE_NODE_FLAGS);
    await sleep(1500);
    const workerStart = memoryOf(worker.process.pid!);
    const replayStarted = Date.now();
    await untilCaughtUp(readSchema, store.events, worker, Math.max(600_000, store.events * 10));
    const replaySeconds = (Date.now() - replayStarted) / 1000;
    report.add({
      name: 'worker: read models replayed from nothing (3 projections at once)',
      value: store.events / replaySeconds,
      unit: 'events/s',
      baselines: [{ name: 'plain scan', value: scanRate }],
      note: `${fmt(store.events)} events in ${replaySeconds.toFixed(0)} s`,
    });

    // --expose-gc only makes global.gc() callable (for the retained-heap reading at the end); collection is unchanged.
    api = startNode('memory-api', join(DIST, 'bench/http/server.js'), [], { ...common, PORT: String(port), HOST: '127.0.0.1', PROJECTIONS_IN_PROCESS: 'false' }, ['--expose-gc', ...IMAGE_NODE_FLAGS]);
    await waitForHttp(`${base}/health/live`, api, 60_000);
    const apiStart = memoryOf(api.process.pid!);
    const apiWatch = watchMemory(api, 500);
    const workerWatch = watchMemory(worker, 500);
    const auth = await tokens();

    const rebuildStarted = Date.now();
    for (const projection of ALL_PROJECTIONS) {
      const started = await fetch(`${base}/projections/${projection.name}/rebuild`, { method: 'POST', headers: { Authorization: `Bearer ${auth.admin}` } });
      if (started.status !== 202) throw new Error(`rebuild of ${projection.name} answered ${started.status}: ${await started.text()}`);
      for (;;) {
        await sleep(1000);
        const body = (await (await fetch(`${base}/projections`, { headers: { Authorization: `Bearer ${auth.admin}` } })).json()) as {
          projections: { name: string; rebuild: { state: string; error: string | null } | null }[];
        };
        const state = body.projections.find((p) => p.name === projection.name)?.rebuild;
        if (state?.state === 'failed') throw new Error(`api rebuild of ${projection.name} failed: ${state.error}`);
        if (state?.state === 'done') break;
      }
    }
    const rebuildSeconds = (Date.now() - rebuildStarted) / 1000;
    const apiAfterRebuild = memoryOf(api.process.pid!);
    const heapAfterRebuild = (await (await fetch(`${base}/bench/memory`)).json()) as NodeJS.MemoryUsage;
    report.note(`api process.memoryUsage() after the rebuild: V8 heap used ${Math.round(heapAfterRebuild.heapUsed / 1048576)} MB of ${Math.round(heapAfterRebuild.heapTotal / 1048576)} MB`);
    const workerAfterReplay = memoryOf(worker.process.pid!);
    report.add({ name: 'api: every projection rebuilt in-process (POST /projections/:name/rebuild, one after the other)', value: store.events / rebuildSeconds, unit: 'events/s', baselines: [{ name: 'plain scan', value: scanRate }], note: `${rebuildSeconds.toFixed(0)} s` });

    const programmes = await openProgrammes(base, auth.admin, env.httpProgrammes, uniqueName('m').replace(/_/g, '-'));
    const bare = await ceilingLoad(base, '/bench/noop', undefined, env.httpConnections, 5);
    const bareRate = bare.requests.total / bare.duration;
    report.add({ name: 'bare route of the same api', value: bareRate, unit: 'req/s', isBaseline: true });
    const load = await commandLoad({ baseUrl: base, connections: env.httpConnections, seconds: env.memoryLoadSeconds, programmes, tokens: auth, runId: uniqueName('mem') });
    log(`    ${env.memoryLoadSeconds} s command load: ${summary(load)}`);
    const apiEnd = memoryOf(api.process.pid!);
    const heap = (await (await fetch(`${base}/bench/memory`)).json()) as NodeJS.MemoryUsage;
    const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
    report.note(`api process.memoryUsage() after the load: rss ${mb(heap.rss)}, V8 heap used ${mb(heap.heapUsed)} of ${mb(heap.heapTotal)}, external ${mb(heap.external)}, array buffers ${mb(heap.arrayBuffers)}`);
    const retained = (await (await fetch(`${base}/bench/memory?gc=1`)).json()) as NodeJS.MemoryUsage;
    report.note(`api after a full GC (read after the RSS figures): V8 heap used ${mb(retained.heapUsed)} of ${mb(retained.heapTotal)}, rss ${mb(retained.rss)}`);
    const workerEnd = memoryOf(worker.process.pid!);
    apiWatch.stop();
    workerWatch.stop();
    report.add({
      name: `commands during the ${env.memoryLoadSeconds} s load (worker projecting them)`,
      value: load.requests.total / load.duration,
      unit: 'commands/s',
      baselines: [{ name: 'bare route', value: bareRate }],
      note: `p50 ${load.latency.p50} ms, p99 ${load.latency.p99} ms, non-2xx ${load.non2xx}, errors ${load.errors}`,
    });
    report.add({ name: 'api RSS just after start-up', value: apiStart.rssMb, unit: 'MB', isBaseline: true });
    report.add({ name: 'api RSS after the rebuild, before the load', value: apiAfterRebuild.rssMb, unit: 'MB', baselines: [{ name: 'at start-up', value: apiStart.rssMb }] });
    report.add({
      name: 'api RSS after the rebuild and the load',
      value: apiEnd.rssMb,
      unit: 'MB',
      baselines: [{ name: 'at start-up', value: apiStart.rssMb }],
      bars: [{ text: '< 300 MB', met: apiEnd.rssMb < 300 }],
      note: `peak ${apiEnd.peakMb.toFixed(0)} MB`,
    });
    report.add({ name: 'worker RSS just after start-up', value: workerStart.rssMb, unit: 'MB', isBaseline: true });
    report.add({ name: 'worker RSS after the replay, before the load', value: workerAfterReplay.rssMb, unit: 'MB', baselines: [{ name: 'at start-up', value: workerStart.rssMb }] });
    report.add({
      name: 'worker RSS after the replay and the load',
      value: workerEnd.rssMb,
      unit: 'MB',
      baselines: [{ name: 'at start-up', value: workerStart.rssMb }],
      bars: [{ text: '< 300 MB', met: workerEnd.rssMb < 300 }],
      note: `peak ${workerEnd.peakMb.toFixed(0)} MB`,
    });
  } finally {
    if (api) await stopChild(api);
    if (worker) await stopChild(worker);
    await dropSchemas([readSchema]);
    await store.release();
  }
  report.finish();
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
