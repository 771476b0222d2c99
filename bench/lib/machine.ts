import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './env';
import { serverInfo } from './pg';

const PACKAGES = [
  'pg',
  'kafkajs',
  '@electric-sql/pglite',
  '@nestjs/core',
  '@nestjs/platform-fastify',
  'fastify',
  '@event-driven-io/emmett',
  '@event-driven-io/emmett-postgresql',
  'autocannon',
  '@swc/core',
];

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

function command(file: string, args: string[]): string {
  try {
    return execFileSync(file, args, { encoding: 'utf8' }).trim();
  } catch {
    return 'unavailable';
  }
}

export interface Machine {
  nproc: number;
  cpuModel: string;
  memoryGb: number;
  uptime: string;
  node: string;
  postgres: string;
  postgresSettings: string;
  kafka: string;
  packages: Record<string, string>;
}

export async function describeMachine(): Promise<Machine> {
  const server = await serverInfo();
  return {
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    uptime: command('uptime', []),
    node: process.version,
    postgres: server.version,
    postgresSettings: `synchronous_commit=${server.synchronousCommit}, fsync=${server.fsync}, shared_buffers=${server.sharedBuffers}, max_connections=${server.maxConnections}`,
    kafka: process.env.BENCH_KAFKA_BROKERS ? `given broker ${process.env.BENCH_KAFKA_BROKERS}` : `Apache Kafka ${process.env.KAFKA_VERSION ?? '4.4.0'} (single KRaft node from test/infra/kafka.sh), ${(spawnSync('java', ['-version'], { encoding: 'utf8' }).stderr ?? '').split('\n')[0] || 'java not found'}`,
    packages: Object.fromEntries(PACKAGES.map((p) => [p, packageVersion(p)])),
  };
}

/** Load average every `everyMs`, and the busiest processes now and then: the machine is shared. */
export function watchLoad(everyMs = 5_000): { stop: () => { samples: number[]; min: number; max: number; mean: number; busiest: string[] } } {
  const samples: number[] = [loadavg()[0]];
  const busiest: string[] = [];
  const top = () => {
    const ps = command('ps', ['-eo', 'pcpu,comm', '--sort=-pcpu', '--no-headers']).split('\n').slice(0, 6).map((l) => l.trim()).join(', ');
    busiest.push(`${new Date().toISOString().slice(11, 19)} ${ps}`);
  };
  top();
  let ticks = 0;
  const timer = setInterval(() => {
    samples.push(loadavg()[0]);
    if (++ticks % 12 === 0) top();
  }, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      top();
      return {
        samples,
        min: Math.min(...samples),
        max: Math.max(...samples),
        mean: samples.reduce((a, b) => a + b, 0) / samples.length,
        busiest,
      };
    },
  };
}
