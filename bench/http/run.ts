/**
 * 2. Commands end to end over HTTP: the built api in a child process (with the bench's two
 * do-nothing routes, see server.ts), 32 connections walking applications through submit →
 * review → approve → disburse, on PostgreSQL and on the embedded PGlite default; against a
 * bare route of the same application (the framework ceiling).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type autocannon from 'autocannon';
import { describeCpu, measureCpu } from '../lib/cpu';
import { DIST, OUT_DIR, env, uniqueName } from '../lib/env';
import { dropSchemas } from '../lib/pg';
import { Child, startNode, stopChild, waitForHttp } from '../lib/proc';
import { Report, log } from '../lib/report';
import { tokens } from '../lib/tokens';
import { ceilingLoad, commandLoad, openProgrammes, summary } from './load';

/** Settings shared by every api the benchmarks start; the report states them. */
export const API_ENV = {
  LOG_LEVEL: 'warn',
  // The per-actor limit (600/min by default) would refuse a load test within a second.
  RATE_LIMIT_PER_MINUTE: '0',
};

export function startApi(name: string, port: number, extraEnv: Record<string, string>, script = 'bench/http/server.js'): Child {
  return startNode(name, join(DIST, script), [], { ...API_ENV, PORT: String(port), HOST: '127.0.0.1', ...extraEnv });
}

interface StoreCase {
  name: 'PostgreSQL' | 'PGlite';
  env: () => Record<string, string>;
  cleanup: () => Promise<void>;
  bars: (rate: number, p99: number) => { text: string; met: boolean }[];
}

export async function main(): Promise<void> {
  const report = new Report('http', '2. Commands over HTTP');
  report.setting('load', `autocannon, ${env.httpConnections} connections, ${env.httpSeconds} s per measurement after a ${env.httpWarmup} s warm-up; each connection: submit → review → approve → disburse, one request in flight`);
  report.setting('programmes', `${env.httpProgrammes} programmes, each category allocated ${(1e14).toLocaleString('en-US')} VND, applications round-robin over them: approvals are never refused for budget and no programme stream is a hot spot`);
  report.setting('api settings', { ...API_ENV, note: 'dev-secret HS256 tokens; no Kafka; PostgreSQL: projections in the worker (not started here), PGlite: projections in the api process (required)' });
  const pgSchemas = [uniqueName('http_es'), uniqueName('http_read')];
  const pgliteDir = join(OUT_DIR, uniqueName('pglite'));
  const cases: StoreCase[] = [
    {
      name: 'PostgreSQL',
      env: () => ({ EVENT_STORE: 'postgres', EVENT_STORE_URL: env.pgUrl, EVENT_STORE_SCHEMA: pgSchemas[0], READ_MODEL_SCHEMA: pgSchemas[1] }),
      cleanup: () => dropSchemas(pgSchemas),
      bars: (rate, p99) => [
        { text: '≥ 1,500 commands/s', met: rate >= 1_500 },
        { text: 'p99 < 50 ms', met: p99 < 50 },
      ],
    },
    {
      name: 'PGlite',
      env: () => ({ EVENT_STORE: 'pglite', DATA_DIR: pgliteDir }),
      cleanup: async () => {
        if (!env.keep) rmSync(pgliteDir, { recursive: true, force: true });
      },
      bars: (rate) => [{ text: '≥ 300 commands/s', met: rate >= 300 }],
    },
  ];
  const auth = await tokens();
  const port = 3910;
  // For profiling runs: BENCH_HTTP_STORES=postgresql (or pglite) and BENCH_HTTP_CEILING=0 measure only that.
  const only = process.env.BENCH_HTTP_STORES?.split(',');
  const withCeiling = process.env.BENCH_HTTP_CEILING !== '0';
  for (const store of cases.filter((c) => !only || only.includes(c.name.toLowerCase()))) {
    const api = startApi(`http-api-${store.name.toLowerCase()}`, port, store.env());
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitForHttp(`${base}/health/live`, api, 120_000);
      const programmes = await openProgrammes(base, auth.admin, env.httpProgrammes, uniqueName('p').replace(/_/g, '-'));
      const runId = uniqueName('run');
      log(`  ${store.name}: warming up`);
      if (withCeiling) await ceilingLoad(base, '/bench/noop', undefined, env.httpConnections, env.httpWarmup);
      await commandLoad({ baseUrl: base, connections: env.httpConnections, seconds: env.httpWarmup, programmes, tokens: auth, runId: `${runId}w` });

      const statements = async () => ((await (await fetch(`${base}/bench/statements`)).json()) as { statements: number }).statements;
      const before = await statements();
      const commandsCpu = measureCpu(api.process.pid!);
      const commands = await commandLoad({ baseUrl: base, connections: env.httpConnections, seconds: env.httpSeconds, programmes, tokens: auth, runId });
      const commandsCpuUsed = commandsCpu();
      const perCommand = (await statements()) - before;
      log(`    commands: ${summary(commands)}`);
      report.note(`${store.name}: commands: ${describeCpu(commandsCpuUsed, commands.requests.total)}`);
      report.note(
        `${store.name}: SQL statements per command during the load: ${(perCommand / commands.requests.total).toFixed(2)}${store.name === 'PGlite' ? ' (including the projections, which run in the api here)' : ' (the api only; projections run in the worker)'}`,
      );
      const rate = (r: autocannon.Result) => r.requests.total / r.duration;
      const ceilings: { name: string; value: number }[] = [];
      let bareP99: number | undefined;
      if (withCeiling) {
        const bareCpu = measureCpu(api.process.pid!);
        const bare = await ceilingLoad(base, '/bench/noop', undefined, env.httpConnections, Math.max(5, env.httpSeconds / 2));
        report.note(`${store.name}: bare route: ${describeCpu(bareCpu(), bare.requests.total)}`);
        log(`    bare route: ${summary(bare)}`);
        const authenticated = await ceilingLoad(base, '/bench/noop-authenticated', auth.applicant, env.httpConnections, Math.max(5, env.httpSeconds / 2));
        log(`    authenticated bare route: ${summary(authenticated)}`);
        report.add({ name: `${store.name}: bare route (POST, ≈1 KB JSON, does nothing)`, value: rate(bare), unit: 'req/s', isBaseline: true, note: `p50 ${bare.latency.p50} ms, p99 ${bare.latency.p99} ms` });
        report.add({
          name: `${store.name}: bare route behind the bearer-token guard`,
          value: rate(authenticated),
          unit: 'req/s',
          baselines: [{ name: 'bare route', value: rate(bare) }],
          note: `p50 ${authenticated.latency.p50} ms, p99 ${authenticated.latency.p99} ms`,
        });
        ceilings.push({ name: 'bare route', value: rate(bare) }, { name: 'authenticated bare route', value: rate(authenticated) });
        bareP99 = bare.latency.p99;
      }
      const commandRate = rate(commands);
      const failed = commands.non2xx + commands.errors + commands.timeouts;
      report.add({
        name: `${store.name}: commands (submit, review, approve, disburse)`,
        value: commandRate,
        unit: 'commands/s',
        // Without the ceiling (BENCH_HTTP_CEILING=0) the figure stands without a ratio.
        baselines: ceilings,
        bars: [...store.bars(commandRate, commands.latency.p99), { text: 'every command answered 2xx', met: failed === 0 }],
        note: `p50 ${commands.latency.p50} ms, p90 ${commands.latency.p90} ms, p99 ${commands.latency.p99} ms, max ${commands.latency.max} ms; ${commands.requests.total} commands, non-2xx ${commands.non2xx}, errors ${commands.errors}`,
      });
      report.add({
        name: `${store.name}: command latency p99`,
        value: commands.latency.p99,
        unit: 'ms',
        baselines: bareP99 === undefined ? [] : [{ name: 'bare route p99', value: bareP99 }],
      });
    } finally {
      await stopChild(api);
      await store.cleanup();
    }
  }
  report.finish();
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
