import { DEV_JWT_SECRET, Role, signDevToken } from '@kcflow/auth';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { POSTGRES_URL } from '../support/services';

/**
 * The split topology as real processes: the built api and worker (`dist/`, as `npm start`
 * and `npm run start:worker` run them) on PostgreSQL, each schema fresh per run.
 */
export const ROOT = resolve(__dirname, '../..');
const API_MAIN = 'dist/apps/api/src/main.js';
const WORKER_MAIN = 'dist/apps/worker/src/main.js';

export function ensureBuilt(): void {
  if (!existsSync(join(ROOT, API_MAIN)) || !existsSync(join(ROOT, WORKER_MAIN))) execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT });
}

export interface NodeProcess {
  child: ChildProcess;
  pid: number;
  stderr(): string;
  stdout(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** `node [...nodeOptions] script`, with `env` on top of PATH alone. */
export function spawnNode(script: string, env: Record<string, string>, nodeOptions: string[] = []): NodeProcess {
  const child = spawn(process.execPath, [...nodeOptions, script], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  child.stdout?.on('data', (chunk) => (stdout += chunk));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return {
    child,
    pid: child.pid!,
    stderr: () => stderr,
    stdout: () => stdout,
    exited,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Environment of the split topology: event store and read models in two schemas of one database. */
export function topologyEnv(schema: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    EVENT_STORE: 'postgres',
    EVENT_STORE_URL: POSTGRES_URL,
    EVENT_STORE_SCHEMA: `${schema}_es`,
    READ_MODEL_SCHEMA: `${schema}_rm`,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '0',
    ...extra,
  };
}

export interface ApiProcess extends NodeProcess {
  base: string;
}

/** The api without projections (they run in the workers), answering on `port`. */
export async function startApi(schema: string, port: number, extra: Record<string, string> = {}): Promise<ApiProcess> {
  const api = spawnNode(API_MAIN, topologyEnv(schema, { PORT: String(port), PROJECTIONS_IN_PROCESS: 'false', ...extra }));
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/health/live`)).ok, 60_000, () => `api did not start: ${api.stderr().slice(-2000)}`, api.exited);
  return { ...api, base };
}

/** A worker copy; resolves once it runs (it may or may not hold leases). */
export async function startWorker(schema: string, extra: Record<string, string> = {}, nodeOptions: string[] = []): Promise<NodeProcess> {
  const worker = spawnNode(WORKER_MAIN, topologyEnv(schema, { RECONCILE_INTERVAL_SECONDS: '0', LOG_LEVEL: 'info', ...extra }), nodeOptions);
  await waitFor(async () => worker.stdout().includes('KCFlow worker running'), 30_000, () => `worker did not start: ${worker.stderr()}`, worker.exited);
  return worker;
}

export const token = (role: Role, sub = `${role}-1`) => signDevToken({ sub, roles: [role] }, DEV_JWT_SECRET);

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

/** Polls `condition` until it holds; fails after `timeoutMs`, or at once if `exited` resolves first. */
export async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, message: () => string, exited?: Promise<unknown>): Promise<void> {
  let gone = false;
  void exited?.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await condition()) return;
    } catch {
      // not there yet
    }
    if (gone || Date.now() > deadline) throw new Error(message());
    await sleep(100);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The pid in a lease holder's name (`kcflow <host> pid <pid>`), as GET /projections shows it. */
export function holderPid(heldBy: string | null | undefined): number | undefined {
  const match = / pid (\d+)$/.exec(heldBy ?? '');
  return match ? Number(match[1]) : undefined;
}

export async function dropSchemas(...schemas: string[]): Promise<void> {
  const client = new Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
