import { resolve } from 'node:path';

/**
 * Everything a benchmark can be told, from the environment, with the defaults that
 * `npm run bench` uses on the 2-core reference machine (RESULTS.md).
 */
function int(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number, got "${raw}"`);
  return value;
}

/** The benchmarks run compiled, from dist/bench/lib. */
export const REPO_ROOT = resolve(__dirname, '../../..');
export const OUT_DIR = resolve(REPO_ROOT, 'bench/out');
export const DIST = resolve(REPO_ROOT, 'dist');

export const env = {
  pgUrl: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  /**
   * Events generated for the rebuild (and reused by the memory and Kafka benchmarks). 200,000 by
   * default: the whole suite on a million took 18.4 min on the 2-core machine (RESULTS.md), over
   * its 15 minutes, most of it generating the events and replaying them three times;
   * BENCH_EVENTS=1000000 npm run bench (or bench:rebuild alone) measures the million.
   */
  events: int('BENCH_EVENTS', 200_000),
  /** A schema of generated events from an earlier step of the same run (run-all passes it on). */
  eventSchema: process.env.BENCH_EVENT_SCHEMA || undefined,
  /** Seconds each append contender runs per round, and how many rounds. */
  appendSeconds: int('BENCH_APPEND_SECONDS', 3),
  appendRounds: int('BENCH_APPEND_ROUNDS', 4),
  /** Seconds of load per HTTP measurement (after a warm-up of BENCH_HTTP_WARMUP seconds). */
  httpSeconds: int('BENCH_HTTP_SECONDS', 15),
  httpWarmup: int('BENCH_HTTP_WARMUP', 3),
  httpConnections: int('BENCH_HTTP_CONNECTIONS', 32),
  httpProgrammes: int('BENCH_HTTP_PROGRAMMES', 128),
  auditEvents: int('BENCH_AUDIT_EVENTS', 10_000),
  auditSamples: int('BENCH_AUDIT_SAMPLES', 200),
  kafkaEvents: int('BENCH_KAFKA_EVENTS', 100_000),
  /** Rounds of raw producer then relay; the figures are the medians. */
  kafkaRounds: int('BENCH_KAFKA_ROUNDS', 3),
  /** Store events per send, for the raw producer and the relay's batchSize alike. */
  kafkaBatch: int('BENCH_KAFKA_BATCH', 500),
  /** An existing broker to use (host:port,…); unset: a private one started by test/infra/kafka.sh. */
  kafkaBrokers: process.env.BENCH_KAFKA_BROKERS || undefined,
  kafkaPort: int('BENCH_KAFKA_PORT', 19092),
  memoryLoadSeconds: int('BENCH_MEMORY_LOAD_SECONDS', 60),
  /** 1: keep the schemas and folders a run made (to look at them afterwards). */
  keep: process.env.BENCH_KEEP === '1',
  /** 1: start every child process under --cpu-prof (profiles in bench/out/profiles). */
  cpuProf: process.env.BENCH_CPU_PROF === '1',
};

/** A name no earlier run used: `bench_<kind>_<time><random>`. */
export function uniqueName(kind: string): string {
  return `bench_${kind}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}
