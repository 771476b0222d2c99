/**
 * `npm run bench`: every benchmark, one after the other, each in a process of its own, on one
 * shared store of BENCH_EVENTS generated events (for the rebuild, Kafka and memory ones);
 * then bench/out/summary.md with the machine, the versions, every figure and its ratio, and
 * which bars were met. `node dist/bench/run-all.js rebuild kafka` runs only those.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST, OUT_DIR, REPO_ROOT, env, uniqueName } from './lib/env';
import { seedEventStore } from './lib/event-seeder';
import { Machine, describeMachine, watchLoad } from './lib/machine';
import { dropSchemas } from './lib/pg';
import { BenchResult, log, markdownTable } from './lib/report';

const STEPS = [
  { name: 'appends', needsStore: false },
  { name: 'http', needsStore: false },
  { name: 'audit', needsStore: false },
  { name: 'rebuild', needsStore: true },
  { name: 'kafka', needsStore: true },
  { name: 'memory', needsStore: true },
] as const;

function runStep(name: string, extraEnv: Record<string, string>): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(DIST, 'bench', name, 'run.js')], { cwd: REPO_ROOT, env: { ...process.env, ...extraEnv }, stdio: 'inherit' });
    child.once('exit', (code) => resolve(code));
  });
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const steps = STEPS.filter((s) => wanted.length === 0 || wanted.includes(s.name));
  if (steps.length === 0) throw new Error(`unknown benchmark; choose from ${STEPS.map((s) => s.name).join(', ')}`);
  mkdirSync(OUT_DIR, { recursive: true });
  for (const step of steps) rmSync(join(OUT_DIR, `${step.name}.json`), { force: true });
  const started = Date.now();
  const machine = await describeMachine();
  const load = watchLoad();
  log(`KCFlow benchmarks: ${steps.map((s) => s.name).join(', ')}`);
  log(`machine: ${machine.nproc} × ${machine.cpuModel}, ${machine.memoryGb} GB; ${machine.uptime}`);
  log(`node ${machine.node}; ${machine.postgres.split(' on ')[0]} (${machine.postgresSettings})`);

  const shared: Record<string, string> = {};
  let sharedSchema: string | undefined;
  let seeded: Awaited<ReturnType<typeof seedEventStore>> | undefined;
  const failures: string[] = [];
  try {
    for (const step of steps) {
      if (step.needsStore && !env.eventSchema && !sharedSchema) {
        sharedSchema = uniqueName('events');
        log(`\n=== generating the shared store: ${env.events.toLocaleString('en-US')} events of realistic lifecycles into ${sharedSchema} ===`);
        seeded = await seedEventStore(sharedSchema, env.events);
        log(`  ${seeded.events.toLocaleString('en-US')} events (${seeded.applications.toLocaleString('en-US')} applications, ${seeded.programmes} programmes) in ${seeded.seconds.toFixed(0)} s`);
        shared.BENCH_EVENT_SCHEMA = sharedSchema;
      }
      const code = await runStep(step.name, shared);
      if (code !== 0) failures.push(`${step.name} exited with ${code}`);
    }
  } finally {
    if (sharedSchema) await dropSchemas([sharedSchema]);
  }
  const loadSummary = load.stop();
  const seconds = (Date.now() - started) / 1000;
  const results = steps
    .map((s) => join(OUT_DIR, `${s.name}.json`))
    .filter((file) => existsSync(file))
    .map((file) => JSON.parse(readFileSync(file, 'utf8')) as BenchResult);
  const summary = summaryMarkdown(machine, results, seconds, loadSummary, seeded, failures);
  const file = wanted.length === 0 ? 'summary.md' : `summary-${steps.map((s) => s.name).join('-')}.md`;
  writeFileSync(join(OUT_DIR, file), summary);
  log(`\n${summary}`);
  log(`(written to bench/out/${file})`);
  if (failures.length > 0) process.exitCode = 1;
}

function summaryMarkdown(
  machine: Machine,
  results: BenchResult[],
  seconds: number,
  load: ReturnType<ReturnType<typeof watchLoad>['stop']>,
  seeded: Awaited<ReturnType<typeof seedEventStore>> | undefined,
  failures: string[],
): string {
  const bars = results.flatMap((r) => r.figures.flatMap((f) => (f.bars ?? []).map((b) => `- ${b.met ? '**met**' : '**missed**'}: ${r.title} — ${f.name}: ${b.text}`)));
  return [
    `# Benchmark run of ${new Date().toISOString()}`,
    '',
    `- Machine: ${machine.nproc} × ${machine.cpuModel}, ${machine.memoryGb} GB RAM`,
    `- Load average (1 min) during the run: min ${load.min.toFixed(2)}, mean ${load.mean.toFixed(2)}, max ${load.max.toFixed(2)} (sampled every 5 s; the machine is shared)`,
    `- Busiest processes, now and then: ${load.busiest.map((b) => `\n  - ${b}`).join('')}`,
    `- Node ${machine.node}; ${machine.postgres}; ${machine.postgresSettings}`,
    `- Kafka: ${machine.kafka}`,
    `- Packages: ${Object.entries(machine.packages).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `- Total time: ${(seconds / 60).toFixed(1)} min`,
    seeded
      ? `- Shared store: ${seeded.events.toLocaleString('en-US')} events, ${seeded.applications.toLocaleString('en-US')} applications in ${seeded.programmes} programmes, generated in ${seeded.seconds.toFixed(0)} s; stages ${JSON.stringify(seeded.stages)}`
      : '',
    ...(failures.length ? ['', `**Failed:** ${failures.join('; ')}`] : []),
    '',
    ...results.flatMap((r) => [
      `## ${r.title}`,
      '',
      ...Object.entries(r.settings).map(([k, v]) => `- ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`),
      ...r.notes.map((n) => `- ${n}`),
      `- ${r.seconds.toFixed(0)} s, load average ${r.loadAverage.start.map((l) => l.toFixed(2)).join(' ')} → ${r.loadAverage.end.map((l) => l.toFixed(2)).join(' ')}`,
      '',
      markdownTable(r),
      '',
    ]),
    '## Bars',
    '',
    ...bars,
    '',
  ].join('\n');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
