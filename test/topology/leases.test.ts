import { DEFAULT_CAPS, programmeStream } from '@kcflow/domain';
import { InMemoryEventStore, formatPosition } from '@kcflow/event-store';
import { ALL_PROJECTIONS, ProjectionLease, ProjectionLeases, ProjectionRunner, ProjectionStatus } from '@kcflow/read-models';
import { AdvisoryLeases } from '@kcflow/runtime';
import { PgDatabase, quoteSchema } from '@kcflow/sql';
import { randomUUID } from 'node:crypto';
import { POSTGRES_URL, describeWithPostgres, uniqueSchema } from '../support/services';
import { sleep, waitFor } from './processes';

jest.setTimeout(60_000);

/** Each programme is three events; only the budget projection writes rows for them. */
async function openProgrammes(store: InMemoryEventStore, from: number, count: number): Promise<void> {
  const metadata = () => ({ actorId: 'admin-1', role: 'admin', correlationId: randomUUID(), causationId: randomUUID(), occurredAt: new Date().toISOString(), schemaVersion: 1 });
  for (let i = from; i < from + count; i++) {
    const programmeId = `P-${i}`;
    await store.append(
      programmeStream(programmeId),
      [
        { id: randomUUID(), type: 'ProgrammeOpened', data: { programmeId, name: `Programme ${i}`, year: 2024, fundingSource: 'city', caps: DEFAULT_CAPS, advanceShare: 0.7 }, metadata: metadata() },
        { id: randomUUID(), type: 'BudgetAllocated', data: { programmeId, category: 'advanced_equipment', amount: 1_000_000 * i }, metadata: metadata() },
        { id: randomUUID(), type: 'BudgetAllocated', data: { programmeId, category: 'product_design', amount: 500_000 * i }, metadata: metadata() },
      ],
      'no_stream',
    );
  }
}

describeWithPostgres('projection leases (PostgreSQL advisory locks)', () => {
  let db: PgDatabase;
  let schemas: string[];
  let runners: ProjectionRunner[];
  let leaseSets: AdvisoryLeases[];
  const fresh = () => {
    const schema = uniqueSchema('lease');
    schemas.push(schema);
    return schema;
  };
  const runner = (store: InMemoryEventStore, schema: string, leases?: ProjectionLeases, extra: Partial<ConstructorParameters<typeof ProjectionRunner>[0]> = {}) => {
    const created = new ProjectionRunner({ store, db, schema, projections: ALL_PROJECTIONS, leases, ...extra });
    runners.push(created);
    return created;
  };
  const caughtUp = async (r: ProjectionRunner, store: InMemoryEventStore) => {
    const head = formatPosition((await store.headPosition())!);
    return (await r.status()).every((s) => s.position === head);
  };
  const rows = (schema: string, table: string) => db.query(`SELECT * FROM ${quoteSchema(schema)}.${table} ORDER BY 1, 2`);

  beforeAll(() => {
    db = new PgDatabase(POSTGRES_URL);
  });
  beforeEach(() => {
    schemas = [];
    runners = [];
    leaseSets = [];
  });
  afterEach(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    await Promise.all(leaseSets.map((l) => l.close()));
    for (const schema of schemas) await db.query(`DROP SCHEMA IF EXISTS ${quoteSchema(schema)} CASCADE`);
  });
  afterAll(() => db?.close());

  it('grants a lease to one holder at a time, and frees it when the holder’s session ends', async () => {
    const namespace = fresh();
    const first = new AdvisoryLeases({ url: POSTGRES_URL, db, namespace, pollIntervalMs: 200 });
    const second = new AdvisoryLeases({ url: POSTGRES_URL, db, namespace, pollIntervalMs: 200 });

    const held = (await first.tryAcquire('budget'))!;
    expect(held).toBeDefined();
    expect(await second.tryAcquire('budget')).toBeUndefined();
    expect(await second.holders(['budget', 'applications'])).toEqual(new Map([['budget', first.holderName]]));
    // Another namespace (another deployment's read-model schema) is another lock.
    expect(await new AdvisoryLeases({ url: POSTGRES_URL, db, namespace: fresh() }).holders(['budget'])).toEqual(new Map());

    // The server ends the holder's session, as it does when the holder's process dies.
    await db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0)`,
      [`kcflow:${namespace}:budget`],
    );
    await held.lost;
    const taken = (await second.tryAcquire('budget'))!; // on the connection kept from its first attempt
    expect(taken).toBeDefined();
    await taken.release();
    expect(await first.holders(['budget'])).toEqual(new Map());
    await Promise.all([first.close(), second.close()]);
  });

  it('runs each projection in one of two runners, and the other takes over when it stops', async () => {
    const store = new InMemoryEventStore();
    const schema = fresh();
    const leases = () => {
      const created = new AdvisoryLeases({ url: POSTGRES_URL, db, namespace: schema, pollIntervalMs: 200 });
      leaseSets.push(created);
      return created;
    };
    await openProgrammes(store, 1, 20);
    const a = runner(store, schema, leases());
    const b = runner(store, schema, leases());
    await a.start();
    await b.start();
    await a.waitUntilCaughtUp();
    const seenFromB = await b.status();
    expect(seenFromB.map((s) => [s.name, s.running, s.heldBy])).toEqual(ALL_PROJECTIONS.map((p) => [p.name, true, expect.stringMatching(/^kcflow /)]));

    await a.stop(); // releases both leases at once
    await openProgrammes(store, 21, 20);
    await waitFor(() => caughtUp(b, store), 10_000, () => 'the second runner did not take over');

    const total = (await store.readAll({ limit: 10_000 })).length;
    expect((await b.status()).map((s: ProjectionStatus) => s.eventsApplied)).toEqual(ALL_PROJECTIONS.map(() => total));
    expect(await rows(schema, 'programmes')).toHaveLength(40);
  });

  it('fences a runner whose lease was taken over: its batch rolls back, it resumes from the checkpoint, each event counts once', async () => {
    // Leases that grant everyone: the worst case of a lease lost and taken over mid-batch,
    // again and again. Only the checkpoint's compare-and-set keeps the two runners apart.
    const grantAll: ProjectionLeases = {
      pollIntervalMs: 20,
      tryAcquire: async (): Promise<ProjectionLease> => ({ lost: new Promise(() => undefined), release: async () => undefined }),
      holders: async () => new Map(),
    };
    const warnings: string[] = [];
    const logger = { info: () => undefined, error: () => undefined, warn: (_context: object, message: string) => void warnings.push(message) };
    const store = new InMemoryEventStore();
    const schema = fresh();
    await openProgrammes(store, 1, 100);
    const racing = [runner(store, schema, grantAll, { batchSize: 3, logger }), runner(store, schema, grantAll, { batchSize: 3, logger })];
    await Promise.all(racing.map((r) => r.start()));
    await openProgrammes(store, 101, 50);
    await waitFor(() => caughtUp(racing[0], store), 30_000, () => 'the racing runners did not catch up');
    await sleep(200);
    await Promise.all(racing.map((r) => r.stop()));

    expect(warnings.filter((w) => /checkpoint was moved by another runner/.test(w)).length).toBeGreaterThan(0);
    const total = (await store.readAll({ limit: 10_000 })).length;
    const status = await racing[0].status();
    expect(status.map((s) => [s.eventsApplied, s.lastError])).toEqual(ALL_PROJECTIONS.map(() => [total, null]));

    // The same rows as one runner alone builds.
    const alone = fresh();
    const single = runner(store, alone);
    await single.start();
    await single.waitUntilCaughtUp();
    for (const projection of ALL_PROJECTIONS) {
      for (const table of projection.tables) expect(await rows(schema, table)).toEqual(await rows(alone, table));
    }
  });
});
