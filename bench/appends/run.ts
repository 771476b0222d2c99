/**
 * 1. Appends through the PostgreSQL adapter, against a raw `pg` INSERT of the same rows in the
 * same transaction shape, one statement (the floor) and against Emmett's PostgreSQL event store (the peer).
 * Each contender runs in its own process on a fresh schema; the rounds rotate the order so
 * that load from other work on the machine falls on all of them alike; the median counts.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { DIST, env, uniqueName } from '../lib/env';
import { dropSchemas, serverInfo } from '../lib/pg';
import { startNode, tail } from '../lib/proc';
import { Report, log } from '../lib/report';
import { fmt, median } from '../lib/stats';
import type { ContenderArgs, ContenderName, ContenderResult } from './contender';

interface Mode {
  name: string;
  batch: number;
  concurrency: number;
  unit: 'appends/s' | 'events/s';
  bar?: { text: string; min: number };
}

const MODES: Mode[] = [
  { name: 'single-event appends, concurrency 1', batch: 1, concurrency: 1, unit: 'appends/s' },
  { name: 'single-event appends, concurrency 32', batch: 1, concurrency: 32, unit: 'appends/s', bar: { text: '≥ 5,000 appends/s', min: 5_000 } },
  { name: 'batches of 100 events, concurrency 8', batch: 100, concurrency: 8, unit: 'events/s', bar: { text: '≥ 50,000 events/s', min: 50_000 } },
];
const CONTENDERS: ContenderName[] = ['raw', 'kcflow', 'emmett'];
const LABEL: Record<ContenderName, string> = {
  raw: 'raw pg INSERT',
  kcflow: 'KCFlow PostgresEventStore',
  emmett: 'Emmett PostgreSQL store',
};

async function runOne(contender: ContenderName, mode: Mode, round: number): Promise<ContenderResult> {
  const schema = uniqueName(`append_${contender}`);
  const args: ContenderArgs = { contender, schema, concurrency: mode.concurrency, batch: mode.batch, seconds: env.appendSeconds, warmupSeconds: 1 };
  try {
    const child = startNode(`append-${contender}-b${mode.batch}-c${mode.concurrency}-r${round}`, join(DIST, 'bench/appends/contender.js'), [JSON.stringify(args)], {});
    const code = await child.exited;
    const line = readFileSync(child.logFile, 'utf8').split('\n').find((l) => l.startsWith('RESULT '));
    if (code !== 0 || !line) throw new Error(`${contender} failed (${code}):\n${tail(child)}`);
    return JSON.parse(line.slice('RESULT '.length)) as ContenderResult;
  } finally {
    await dropSchemas([schema]);
  }
}

export async function main(): Promise<void> {
  const report = new Report('appends', '1. Appends (PostgreSQL)');
  const server = await serverInfo();
  report.setting('PostgreSQL', `${server.version.split(' on ')[0]}; synchronous_commit=${server.synchronousCommit}, fsync=${server.fsync}, shared_buffers=${server.sharedBuffers}`);
  report.setting('per contender and round', `${env.appendSeconds} s measured after 1 s warm-up; ${env.appendRounds} rounds, order rotated; median of the rounds`);
  report.setting('events', 'ApplicationSubmitted with CommandLoop metadata and hash chain, ≈1.2 KB of JSON; each append to a new stream with expected revision "no stream"');
  report.setting('pools', 'one connection per concurrent appender for every contender');

  for (const mode of MODES) {
    const results: Record<ContenderName, ContenderResult[]> = { raw: [], kcflow: [], emmett: [] };
    for (let round = 0; round < env.appendRounds; round++) {
      const order = CONTENDERS.map((_, i) => CONTENDERS[(i + round) % CONTENDERS.length]);
      for (const contender of order) {
        const result = await runOne(contender, mode, round);
        results[contender].push(result);
        const rate = (mode.unit === 'events/s' ? result.events : result.appends) / result.seconds;
        log(
          `    ${mode.name}, round ${round + 1}, ${LABEL[contender]}: ${fmt(rate)} ${mode.unit}, p50 ${result.latencyMs.p50.toFixed(2)} ms, p99 ${result.latencyMs.p99.toFixed(2)} ms; machine ${(100 * result.machineBusy).toFixed(0)}% busy, this process ${(100 * result.selfCores).toFixed(0)}% of a core`,
        );
      }
    }
    const rate = (c: ContenderName) => median(results[c].map((r) => (mode.unit === 'events/s' ? r.events : r.appends) / r.seconds));
    const latency = (c: ContenderName) => {
      const rates = results[c].map((r) => (mode.unit === 'events/s' ? r.events : r.appends) / r.seconds);
      const latencies = results[c].map((r) => r.latencyMs);
      const busy = median(results[c].map((r) => r.machineBusy));
      return `rounds ${fmt(Math.min(...rates))}–${fmt(Math.max(...rates))}; p50 ${median(latencies.map((l) => l.p50)).toFixed(2)} ms, p99 ${median(latencies.map((l) => l.p99)).toFixed(2)} ms; machine ${(100 * busy).toFixed(0)}% busy`;
    };
    const rawRate = rate('raw');
    const emmettRate = rate('emmett');
    const kcflowRate = rate('kcflow');
    report.add({ name: `${mode.name}: ${LABEL.raw}`, value: rawRate, unit: mode.unit, isBaseline: true, note: latency('raw') });
    report.add({ name: `${mode.name}: ${LABEL.emmett}`, value: emmettRate, unit: mode.unit, baselines: [{ name: 'raw', value: rawRate }], note: latency('emmett') });
    report.add({
      name: `${mode.name}: ${LABEL.kcflow}`,
      value: kcflowRate,
      unit: mode.unit,
      baselines: [
        { name: 'raw', value: rawRate },
        { name: 'Emmett', value: emmettRate },
      ],
      bars: [
        ...(mode.bar ? [{ text: mode.bar.text, met: kcflowRate >= mode.bar.min }] : []),
        { text: '≥ 70% of raw', met: kcflowRate >= 0.7 * rawRate },
        { text: 'ahead of Emmett', met: kcflowRate > emmettRate },
      ],
      note: latency('kcflow'),
    });
  }
  report.finish();
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
