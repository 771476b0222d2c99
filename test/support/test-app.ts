import 'reflect-metadata';
import { signDevToken, DEV_JWT_SECRET, Role } from '@kcflow/auth';
import { loadConfig } from '@kcflow/config';
import { openInfrastructure } from '@kcflow/runtime';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../apps/api/src/create-app';
import { POSTGRES_URL, uniqueSchema } from './services';

export type TestStore = 'pglite' | 'postgres';

/** The API as the e2e suites drive it: over HTTP only, whatever runs behind. */
export interface TestApp {
  http: () => request.Agent;
  token(role: Role | Role[], sub?: string): Promise<string>;
  /** Waits until the read models reflect every event written so far. */
  settle(): Promise<void>;
  close(): Promise<void>;
  /** The PostgreSQL schemas of the in-process ('postgres') app, for tests that inspect or tamper with the store. */
  schemas?: { eventStore: string; readModels: string };
  /** The in-process ('postgres') Nest application, for tests that read its route metadata. */
  nest?: NestFastifyApplication;
  /** The server process's address ('pglite'), for tests that speak raw HTTP. */
  baseUrl?: string;
}

export interface TestAppOptions {
  /** Configuration variables on top of the suite's defaults, e.g. RATE_LIMIT_PER_MINUTE. */
  env?: Record<string, string>;
  /** In-process ('postgres') only: the logger the app writes to. */
  logger?: pino.Logger;
}

const ROOT = resolve(__dirname, '../..');

const token = (role: Role | Role[], sub?: string) => signDevToken({ sub: sub ?? `${[role].flat().join('-')}-1`, roles: [role].flat() }, DEV_JWT_SECRET);

/**
 * KCFlow for an end-to-end suite:
 * - `pglite`: the built server (`dist/`), started as a child process exactly as `npm start`
 *   runs it, on the embedded default with a fresh data folder;
 * - `postgres`: the same application in this process, on its own schemas in the test database.
 */
export async function startTestApp(kind: TestStore, options: TestAppOptions = {}): Promise<TestApp> {
  return kind === 'pglite' ? startServerProcess(options) : startInProcess(options);
}

async function startInProcess(options: TestAppOptions): Promise<TestApp> {
  const schema = uniqueSchema('e2e');
  const config = loadConfig({
    EVENT_STORE: 'postgres',
    EVENT_STORE_URL: POSTGRES_URL,
    EVENT_STORE_SCHEMA: `${schema}_es`,
    READ_MODEL_SCHEMA: `${schema}_rm`,
    PROJECTIONS_IN_PROCESS: 'true',
    LOG_LEVEL: 'silent',
    RECONCILE_INTERVAL_SECONDS: '0',
    ...options.env,
  });
  const logger = options.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const infrastructure = await openInfrastructure(config, logger);
  const app = await createApp(config, infrastructure, logger);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  await infrastructure.projections.start();
  return {
    http: () => request.agent(app.getHttpServer()),
    token,
    settle: () => infrastructure.projections.waitUntilCaughtUp(15_000),
    schemas: { eventStore: `${schema}_es`, readModels: `${schema}_rm` },
    nest: app,
    async close() {
      await app.close();
      await infrastructure.close();
      const { Client } = await import('pg');
      const client = new Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}_es" CASCADE`);
      await client.query(`DROP SCHEMA IF EXISTS "${schema}_rm" CASCADE`);
      await client.end();
    },
  };
}

async function startServerProcess(options: TestAppOptions): Promise<TestApp> {
  if (!existsSync(join(ROOT, 'dist/apps/api/src/main.js'))) execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT });
  const dataDir = mkdtempSync(join(tmpdir(), 'kcflow-e2e-'));
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['dist/apps/api/src/main.js'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, EVENT_STORE: 'pglite', LOG_LEVEL: 'warn', RECONCILE_INTERVAL_SECONDS: '0', ...options.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/health/ready`)).ok, 60_000, () => `server did not become ready: ${stderr.slice(-2000)}`);
  const inspector = await token('inspector');
  return {
    baseUrl: base,
    http: () => request.agent(base),
    token,
    async settle() {
      await waitFor(
        async () => {
          const res = await fetch(`${base}/projections`, { headers: { Authorization: `Bearer ${inspector}` } });
          const body = (await res.json()) as { head: string | null; projections: { position: string | null }[] };
          return body.projections.every((p) => p.position === body.head);
        },
        15_000,
        () => 'projections did not catch up',
      );
    },
    async close() {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

export async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, message: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await condition()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(message());
    await new Promise((r) => setTimeout(r, 100));
  }
}
