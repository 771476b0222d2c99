// In the e2e project, not contract: the scripts load the configuration, whose auth library is
// ESM-only and does not load under the contract project's --experimental-vm-modules flag.
import { loadConfig } from '@kcflow/config';
import { PostgresEventStore } from '@kcflow/event-store';
import { ALL_PROJECTIONS, ProjectionRunner } from '@kcflow/read-models';
import { PgDatabase, quoteSchema } from '@kcflow/sql';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DataDirInUseError, lockDataDir } from '@kcflow/runtime';
import { projectionsRebuild } from '../../scripts/projections-rebuild';
import { verifyReadModelsCommand } from '../../scripts/verify-read-models';
import { History, PROGRAMME, firstHalf, secondHalf } from '../support/read-model-history';
import { POSTGRES_URL, describeWithPostgres, uniqueSchema } from '../support/services';
import { startTestApp } from '../support/test-app';

jest.setTimeout(60_000);

/** The npm scripts' entry points, on the configured store as the api would open it. */
describeWithPostgres('npm run verify:read-models and projections:rebuild on PostgreSQL', () => {
  const schema = uniqueSchema('scripts');
  const env = {
    EVENT_STORE: 'postgres',
    EVENT_STORE_URL: POSTGRES_URL,
    EVENT_STORE_SCHEMA: `${schema}_es`,
    READ_MODEL_SCHEMA: `${schema}_rm`,
    LOG_LEVEL: 'silent',
  };
  let db: PgDatabase;

  const run = async (command: (out: (line: string) => void) => Promise<number>) => {
    const lines: string[] = [];
    const code = await command((line) => lines.push(line));
    return { code, output: lines.join('\n') };
  };

  beforeAll(async () => {
    db = new PgDatabase(POSTGRES_URL);
    const store = new PostgresEventStore({ db, schema: `${schema}_es` });
    await store.migrate();
    const history = new History(store);
    await firstHalf(history);
    await secondHalf(history);
    const runner = new ProjectionRunner({ store, db, schema: `${schema}_rm`, projections: ALL_PROJECTIONS });
    await runner.start();
    await runner.waitUntilCaughtUp(10_000);
    await runner.stop();
  });

  afterAll(async () => {
    await db.query(`DROP SCHEMA IF EXISTS ${quoteSchema(`${schema}_es`)} CASCADE`);
    await db.query(`DROP SCHEMA IF EXISTS ${quoteSchema(`${schema}_rm`)} CASCADE`);
    await db.close();
  });

  it('verify exits 0 while the read models agree, 1 with a table of differences once a row is corrupted', async () => {
    const clean = await run((out) => verifyReadModelsCommand(env, out));
    expect(clean).toEqual({ code: 0, output: expect.stringContaining('agree with the events') });

    await db.query(`UPDATE ${quoteSchema(`${schema}_rm`)}.application_directory SET disbursed = disbursed + 1000 WHERE application_id = 'a1'`);
    const corrupted = await run((out) => verifyReadModelsCommand(env, out));
    expect(corrupted.code).toBe(1);
    expect(corrupted.output).toMatch(/difference\(s\) between the events and the read models/);
    expect(corrupted.output).toMatch(new RegExp(`budget +${PROGRAMME} › advanced_equipment +disbursed +250000000 +250001000`));
  });

  it('rebuild repairs it, and refuses an unknown projection name', async () => {
    const rebuilt = await run((out) => projectionsRebuild(['budget'], env, out, false));
    expect(rebuilt).toEqual({ code: 0, output: expect.stringMatching(/^budget: \d+ events replayed in [\d.]+ s; switched over at \d+\/\d+$/) });
    expect((await run((out) => verifyReadModelsCommand(env, out))).code).toBe(0);

    const all = await run((out) => projectionsRebuild(['all'], env, out, false));
    expect(all.output.split('\n').map((line) => line.split(':')[0])).toEqual(ALL_PROJECTIONS.map((p) => p.name));

    expect(await run((out) => projectionsRebuild(['nope'], env, out, false))).toEqual({ code: 2, output: expect.stringMatching(/^usage: npm run projections:rebuild -- <applications\|budget\|outcomes\|all>/) });
  });
});

describeWithPostgres('the demo data set, seeded through the api, recomputed from the events', () => {
  it('agrees with the read models to the last VND and the last trainee', async () => {
    const t = await startTestApp('postgres', { env: { RATE_LIMIT_PER_MINUTE: '0' } });
    try {
      await t.nest!.listen(0, '127.0.0.1');
      const { port } = t.nest!.getHttpServer().address() as AddressInfo;
      const root = resolve(__dirname, '../..');
      await promisify(execFile)(process.execPath, ['dist/scripts/seed-demo.js', '--api', `http://127.0.0.1:${port}`, '--applications', '120', '--quiet'], { cwd: root });
      await t.settle();
      // Figures worth comparing: approvals, payments and evaluations happened.
      const finance = await t.token('finance');
      const outcomes = await t.http().get('/reports/outcomes?programmeId=HN-2024-city').set('Authorization', `Bearer ${finance}`).expect(200);
      expect(outcomes.body.indicators.some((i: { achieved: number }) => i.achieved > 0)).toBe(true);
      const budget = await t.http().get('/programmes/HN-2024-city/budget').set('Authorization', `Bearer ${finance}`).expect(200);
      expect(budget.body.totals.disbursed).toBeGreaterThan(0);

      const env = { EVENT_STORE: 'postgres', EVENT_STORE_URL: POSTGRES_URL, EVENT_STORE_SCHEMA: t.schemas!.eventStore, READ_MODEL_SCHEMA: t.schemas!.readModels, LOG_LEVEL: 'silent' };
      const lines: string[] = [];
      expect(await verifyReadModelsCommand(env, (line) => lines.push(line))).toBe(0);
      expect(lines.join('\n')).toMatch(/Recomputed 1 programme\(s\) from \d{3,} events/);
    } finally {
      await t.close();
    }
  }, 120_000);
});

describe('the lock on the embedded database folder', () => {
  it('keeps the maintenance scripts out while another process holds the folder, and takes over a dead one\'s', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kcflow-lock-'));
    // Another process (as the api would) takes the lock and keeps running.
    const holder = spawn(process.execPath, ['-e', `require('./dist/libs/runtime/src/data-dir-lock.js').lockDataDir(${JSON.stringify(dir)}); console.log('locked'); setInterval(() => {}, 1000);`], {
      cwd: resolve(__dirname, '../..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise((done) => holder.stdout!.once('data', done));
    try {
      const lines: string[] = [];
      expect(await verifyReadModelsCommand({ EVENT_STORE: 'pglite', DATA_DIR: dir }, (line) => lines.push(line))).toBe(2);
      expect(lines.join('\n')).toMatch(new RegExp(`open in process ${holder.pid}; only one process may open it`));
      expect(() => lockDataDir(dir)).toThrow(DataDirInUseError);
    } finally {
      holder.kill('SIGKILL');
      await new Promise((done) => holder.once('exit', done));
    }
    // Its lock file is left behind by the killed process, and taken over.
    const release = lockDataDir(dir);
    release();
    rmSync(dir, { recursive: true, force: true });
  });
});
