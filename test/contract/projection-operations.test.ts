import { ApplicationEvent, Category, ProgrammeEvent, applicationStream, programmeStream } from '@kcflow/domain';
import { InMemoryEventStore, PostgresEventStore, formatPosition } from '@kcflow/event-store';
import {
  ALL_PROJECTIONS,
  Projection,
  ProjectionRunner,
  applicationsProjection,
  budgetProjection,
  formatDifferences,
  outcomeReport,
  outcomesProjection,
  programmeBudget,
  projectionLag,
  rebuildProjections,
  verifyReadModels,
} from '@kcflow/read-models';
import { PgDatabase, PgliteDatabase, SqlDatabase, quoteSchema } from '@kcflow/sql';
import { History, M, PROGRAMME, admin, firstHalf, secondHalf } from '../support/read-model-history';
import { POSTGRES_URL, describeWithPostgres, uniqueSchema } from '../support/services';

jest.setTimeout(120_000);

/** `count` more approved applications in a programme of their own, some paid and evaluated. */
async function busyProgramme(history: History, programmeId: string, count: number, from = 0): Promise<void> {
  if (from === 0) await history.openProgramme(programmeId, { product_design: 100_000 * M, trade_fair: 100_000 * M }, 2024);
  for (let i = from; i < from + count; i++) {
    const id = `${programmeId}-app-${i}`;
    const category: Category = i % 2 === 0 ? 'product_design' : 'trade_fair';
    await history.submit(id, category, { name: `Cơ sở ${i}`, district: i % 3 === 0 ? 'Gia Lâm' : 'Hoài Đức', taxCode: `0102${String(i % 40).padStart(6, '0')}` }, {
      totalCost: 100 * M,
      requestedAmount: 20 * M,
      expectedOutcomes: { new_designs: 3, jobs_created: 1 },
    }, programmeId);
    await history.review(id, 75);
    await history.approve(id, category, 20 * M, programmeId);
    if (i % 2 === 0) {
      await history.disburse(id, 14 * M, `UNC-${id}`);
      await history.evaluate(id, 'achieved', { new_designs: 2, jobs_created: 1 });
    }
  }
}

async function until(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('Condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every row of every table the projection owns, in a stable order. */
async function tablesOf(db: SqlDatabase, schema: string, projection: Projection): Promise<Record<string, unknown[]>> {
  const tables: Record<string, unknown[]> = {};
  for (const table of projection.tables) tables[table] = await db.query(`SELECT * FROM ${quoteSchema(schema)}.${table} ORDER BY 1, 2`);
  return tables;
}

/** Every index in the schema, as its definition with the schema's name left out. */
async function indexesOf(db: SqlDatabase, schema: string): Promise<string[]> {
  const rows = await db.query<{ indexname: string; indexdef: string }>('SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname', [schema]);
  return rows.map((row) => `${row.indexname}: ${row.indexdef.replaceAll(`${quoteSchema(schema)}.`, '').replaceAll(`${schema}.`, '')}`);
}

function operationCases(openDatabase: () => Promise<SqlDatabase>): void {
  let db: SqlDatabase;
  let schema: string;
  let store: InMemoryEventStore;
  let history: History;
  let runner: ProjectionRunner;

  beforeAll(async () => {
    db = await openDatabase();
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(async () => {
    schema = uniqueSchema('operations');
    store = new InMemoryEventStore();
    history = new History(store);
    runner = new ProjectionRunner({ store, db, schema, projections: ALL_PROJECTIONS, batchSize: 50 });
    await firstHalf(history);
    await secondHalf(history);
    await runner.start();
    await runner.waitUntilCaughtUp(10_000);
  });
  afterEach(async () => {
    await runner.stop();
    await store.close();
    await db.query(`DROP SCHEMA IF EXISTS ${quoteSchema(schema)} CASCADE`);
  });

  const s = () => quoteSchema(schema);
  const sideSchemas = async () =>
    (await db.query<{ name: string }>(`SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE $1`, [`${schema}\\_%`])).map(
      (row) => row.name,
    );

  describe('verify:read-models', () => {
    it('finds the read models in agreement with the events', async () => {
      const result = await verifyReadModels({ store, db, schema });
      expect(result).toEqual({
        differences: [],
        programmes: 2,
        events: (await store.readAll({ limit: 1_000 })).length,
        budgetPosition: formatPosition((await store.headPosition())!),
        outcomesPosition: formatPosition((await store.headPosition())!),
      });
    });

    it('reports every corrupted figure, naming it, with both values', async () => {
      await runner.stop();
      await db.query(`UPDATE ${s()}.budget_allocations SET allocated = allocated + 1 WHERE programme_id = $1 AND category = 'advanced_equipment'`, [PROGRAMME]);
      await db.query(`UPDATE ${s()}.outcome_applications SET achieved = '{"jobs_created": 99}' WHERE application_id = 'a1'`);
      await db.query(`DELETE FROM ${s()}.application_directory WHERE application_id = 'a5'`);

      const { differences } = await verifyReadModels({ store, db, schema });
      expect(differences).toEqual(
        expect.arrayContaining([
          { report: 'budget', subject: `${PROGRAMME} › advanced_equipment`, field: 'allocated', events: 1_000 * M, readModel: 1_000 * M + 1 },
          { report: 'budget', subject: `${PROGRAMME} › advanced_equipment`, field: 'committed', events: 450 * M, readModel: 250 * M },
          { report: 'budget', subject: `${PROGRAMME} › district Thường Tín`, field: 'applications', events: 2, readModel: 1 },
          { report: 'budget', subject: 'all programmes › totals', field: 'allocated', events: 3_800 * M, readModel: 3_800 * M + 1 },
          { report: 'outcomes', subject: `${PROGRAMME} › jobs_created`, field: 'achieved', events: 14, readModel: 101 },
          { report: 'outcomes', subject: 'year 2024 › jobs_created', field: 'achieved', events: 14, readModel: 101 },
        ]),
      );
      const table = formatDifferences(differences);
      expect(table.split('\n')[0]).toMatch(/^report +subject +field +from events +read model$/);
      expect(table).toMatch(/outcomes +HN-2024-city › jobs_created +achieved +14 +101/);
    });

    it('compares each read model at its own checkpoint, so lag is not a difference', async () => {
      await runner.stop();
      await busyProgramme(history, 'HN-2024-late', 5);
      const result = await verifyReadModels({ store, db, schema });
      expect(result.differences).toEqual([]);
      expect(result.budgetPosition).not.toBe(formatPosition((await store.headPosition())!));
    });
  });

  describe('lag', () => {
    it('counts the events after the checkpoint and the age of the oldest', async () => {
      await runner.stop();
      const [status] = await runner.status();
      expect(await projectionLag(store, status.position)).toEqual({ lagEvents: 0, lagSeconds: 0 });
      await busyProgramme(history, 'HN-2024-late', 2);
      const lag = await projectionLag(store, status.position, new Date(Date.now() + 5_000));
      // The programme's 4 events; 6 for the paid and evaluated application, 4 for the other.
      expect(lag.lagEvents).toBe(4 + 6 + 4);
      expect(lag.lagSeconds).toBeGreaterThanOrEqual(5);
      expect((await projectionLag(store, null)).lagEvents).toBe((await store.readAll({ limit: 1_000 })).length);
    });
  });

  describe('rebuild', () => {
    it('switches over while readers read and the runner applies live events: never an empty or wrong answer', async () => {
      await busyProgramme(history, 'HN-2024-busy', 120);
      await runner.waitUntilCaughtUp(20_000);
      const expected = {
        budget: await programmeBudget(db, schema, PROGRAMME),
        busy: await programmeBudget(db, schema, 'HN-2024-busy'),
        outcomes: await outcomeReport(db, schema, { programmeId: 'HN-2024-busy' }),
      };
      expect(expected.busy?.totals.applicationsApproved).toBe(120);

      // Readers, and live events for another programme, for as long as the rebuilds run.
      let rebuilding = true;
      let reads = 0;
      const wrong: unknown[] = [];
      const reader = (async () => {
        while (rebuilding) {
          const [budget, busy, outcomes] = [
            await programmeBudget(db, schema, PROGRAMME),
            await programmeBudget(db, schema, 'HN-2024-busy'),
            await outcomeReport(db, schema, { programmeId: 'HN-2024-busy' }),
          ];
          reads += 1;
          if (JSON.stringify({ budget, busy, outcomes }) !== JSON.stringify(expected)) wrong.push({ budget, busy, outcomes });
          // Let timers run between reads, as between an api's requests (PGlite answers in microtasks).
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      const writer = (async () => {
        for (let i = 0; rebuilding && i < 100; i++) {
          await busyProgramme(history, 'HN-2024-live', 1, i);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })();

      const results = [];
      for (const projection of [budgetProjection, outcomesProjection]) {
        results.push(...(await rebuildProjections({ store, db, schema, projections: [projection], batchSize: 25 })));
      }
      rebuilding = false;
      await Promise.all([reader, writer]);

      expect(wrong).toEqual([]);
      expect(reads).toBeGreaterThan(3);
      expect(results.map((r) => r.projection)).toEqual(['budget', 'outcomes']);
      expect(await sideSchemas()).toEqual([]);

      // The runner goes on into the new tables: everything agrees with the events at the end.
      await runner.waitUntilCaughtUp(20_000);
      const statuses = await runner.status();
      expect(statuses.map((st) => [st.name, st.running, st.lastError])).toEqual(ALL_PROJECTIONS.map((p) => [p.name, true, null]));
      expect((await verifyReadModels({ store, db, schema })).differences).toEqual([]);
      // Live events did arrive during the rebuilds, and are in the new tables.
      expect((await programmeBudget(db, schema, 'HN-2024-live'))?.totals.applicationsApproved).toBeGreaterThan(0);
    });

    it('rebuilds several projections in one pass over the events, switching each over', async () => {
      const before = await Promise.all(ALL_PROJECTIONS.map((projection) => tablesOf(db, schema, projection)));
      const indexesBefore = await indexesOf(db, schema);
      const results = await rebuildProjections({ store, db, schema, projections: ALL_PROJECTIONS, batchSize: 7 });
      const events = (await store.readAll({ limit: 1_000 })).length;
      expect(results).toEqual(ALL_PROJECTIONS.map((p) => ({ projection: p.name, events, position: expect.any(String), seconds: expect.any(Number) })));
      expect(await Promise.all(ALL_PROJECTIONS.map((projection) => tablesOf(db, schema, projection)))).toEqual(before);
      // The rebuild builds the secondary indexes after its replay: the tables switched in have them all.
      expect(indexesBefore.filter((index) => !index.includes('_pkey:'))).toHaveLength(4);
      expect(await indexesOf(db, schema)).toEqual(indexesBefore);
      expect(await sideSchemas()).toEqual([]);
    });

    it('gives the same rows however many reads a fold spans and however many rows it holds before a write', async () => {
      await busyProgramme(history, 'HN-2024-busy', 6);
      await runner.waitUntilCaughtUp(10_000);
      const before = await Promise.all(ALL_PROJECTIONS.map((projection) => tablesOf(db, schema, projection)));
      const events = (await store.readAll({ limit: 1_000 })).length;
      // A write per read, a fold over every read, and in between: applications inserted and
      // updated by later writes, or inserted once as all their events leave them.
      for (const [batchSize, rowsPerWrite] of [[7, 1], [3, 10], [1, 40], [1_000, 5], [1_000, 100_000]]) {
        const results = await rebuildProjections({ store, db, schema, projections: ALL_PROJECTIONS, batchSize, rowsPerWrite });
        expect([batchSize, rowsPerWrite, results.map((r) => r.events)]).toEqual([batchSize, rowsPerWrite, ALL_PROJECTIONS.map(() => events)]);
        expect([batchSize, rowsPerWrite, await Promise.all(ALL_PROJECTIONS.map((projection) => tablesOf(db, schema, projection)))]).toEqual([batchSize, rowsPerWrite, before]);
      }
      expect((await verifyReadModels({ store, db, schema })).differences).toEqual([]);
    });

    it('writes a fold once it holds rowsPerWrite rows: it never holds rowsPerWrite + batchSize', async () => {
      await busyProgramme(history, 'HN-2024-busy', 10);
      await runner.waitUntilCaughtUp(10_000);
      const held: number[] = [];
      // The real projection, telling how many rows each fold holds when it is written.
      const counted: Projection = {
        ...budgetProjection,
        fold() {
          const fold = budgetProjection.fold();
          return {
            get rows() {
              return fold.rows;
            },
            add: (event) => fold.add(event),
            write: (tx, s) => {
              held.push(fold.rows);
              return fold.write(tx, s);
            },
          };
        },
      };
      const budget = await programmeBudget(db, schema, 'HN-2024-busy');
      await runner.stop();

      await rebuildProjections({ store, db, schema, projections: [counted], batchSize: 4, rowsPerWrite: 5, waitForRunnerMs: 0 });

      expect(held.length).toBeGreaterThan(3);
      expect(held.slice(0, -1).every((rows) => rows >= 5 && rows < 5 + 4)).toBe(true);
      expect(held[held.length - 1]).toBeLessThan(5 + 4);
      expect(await programmeBudget(db, schema, 'HN-2024-busy')).toEqual(budget);
      expect((await verifyReadModels({ store, db, schema })).differences).toEqual([]);
    });

    it('counts the events for its progress beside the replay, not before it', async () => {
      await runner.stop();
      const events = (await store.readAll({ limit: 1_000 })).length;
      // A count that answers only once the replay has read: waited for first, it never would.
      let read!: () => void;
      const replayRead = new Promise<void>((resolve) => (read = resolve));
      const readAll = store.readAll.bind(store);
      const countEvents = store.countEvents.bind(store);
      const slowCount = Object.assign(Object.create(store) as InMemoryEventStore, {
        readAll: (options: Parameters<InMemoryEventStore['readAll']>[0]) => (read(), readAll(options)),
        countEvents: async () => (await replayRead, countEvents()),
      });
      const totals: (number | undefined)[] = [];

      await rebuildProjections({ store: slowCount, db, schema, projections: ALL_PROJECTIONS, batchSize: 4, waitForRunnerMs: 0, onProgress: (p) => totals.push(p.total) });

      expect(totals[0]).toBeUndefined();
      expect(totals[totals.length - 1]).toBe(events);
    });

    it('repairs a corrupted read model', async () => {
      await db.query(`UPDATE ${s()}.budget_allocations SET allocated = 1 WHERE programme_id = $1`, [PROGRAMME]);
      await db.query(`UPDATE ${s()}.outcome_applications SET approved = false`);
      expect((await verifyReadModels({ store, db, schema })).differences.length).toBeGreaterThan(0);

      const [budget] = await rebuildProjections({ store, db, schema, projections: [budgetProjection] });
      await rebuildProjections({ store, db, schema, projections: [outcomesProjection] });

      expect(budget).toEqual({ projection: 'budget', events: (await store.readAll({ limit: 1_000 })).length, position: expect.any(String), seconds: expect.any(Number) });
      expect((await verifyReadModels({ store, db, schema })).differences).toEqual([]);
      expect((await programmeBudget(db, schema, PROGRAMME))?.totals.allocated).toBe(3_500 * M);
    });

    it('moves the checkpoint of a stopped runner ahead; the runner resumes from it without counting twice', async () => {
      await runner.stop();
      await busyProgramme(history, 'HN-2024-late', 10);
      await rebuildProjections({ store, db, schema, projections: [budgetProjection], waitForRunnerMs: 0 });
      const [, budget] = await runner.status();
      expect(budget.position).toBe(formatPosition((await store.headPosition())!));

      await busyProgramme(history, 'HN-2024-late', 2, 10);
      await runner.start();
      await runner.waitUntilCaughtUp(10_000);
      expect((await verifyReadModels({ store, db, schema })).differences).toEqual([]);
      expect((await programmeBudget(db, schema, 'HN-2024-late'))?.totals.applicationsApproved).toBe(12);
    });

    it('stops on a poison event, naming it, and leaves the live tables and checkpoint as they were', async () => {
      const poison = await history.append(
        programmeStream(PROGRAMME),
        { type: 'BudgetAllocated', data: { programmeId: PROGRAMME, category: 'trade_fair', amount: 'lots' } } as unknown as ProgrammeEvent,
        admin,
      );
      await until(async () => (await runner.status())[1].running === false);
      const before = { budget: await programmeBudget(db, schema, PROGRAMME), status: (await runner.status())[1] };
      expect(before.status).toMatchObject({ running: false, lastErrorEventId: poison });

      await expect(rebuildProjections({ store, db, schema, projections: [budgetProjection] })).rejects.toThrow(new RegExp(`failed on event ${poison} \\(BudgetAllocated`));
      // Also when the failing fold spans many reads and follows folds already written.
      await expect(rebuildProjections({ store, db, schema, projections: [budgetProjection], batchSize: 3, rowsPerWrite: 8 })).rejects.toThrow(
        new RegExp(`failed on event ${poison} \\(BudgetAllocated`),
      );
      expect(await programmeBudget(db, schema, PROGRAMME)).toEqual(before.budget);
      expect((await runner.status())[1]).toEqual(before.status);
      expect(await sideSchemas()).toEqual([]);
    });

    it('names an event that its projection cannot fold', async () => {
      await runner.stop();
      const broken = await history.append(applicationStream('a2'), { type: 'ApplicationAmended', data: {} } as unknown as ApplicationEvent, admin);
      for (const [batchSize, rowsPerWrite] of [[undefined, undefined], [4, 6]]) {
        await expect(rebuildProjections({ store, db, schema, projections: [applicationsProjection], batchSize, rowsPerWrite, waitForRunnerMs: 0 })).rejects.toThrow(
          new RegExp(`Projection applications failed on event ${broken} \\(ApplicationAmended, application-a2@\\d+\\): Cannot destructure`),
        );
      }
      expect(await sideSchemas()).toEqual([]);
    });
  });
}

describe('projection operations on PGlite', () => operationCases(() => PgliteDatabase.open(undefined)));

describeWithPostgres('projection operations on PostgreSQL', () => operationCases(async () => new PgDatabase(POSTGRES_URL)));

describe('projection rebuild on the embedded store, whose one PGlite connection the events and read models share', () => {
  it('reads the next batch while one is written without waiting on itself, and rebuilds every projection in one pass', async () => {
    const db = await PgliteDatabase.open(undefined);
    const store = new PostgresEventStore({ db, schema: uniqueSchema('events') });
    const schema = uniqueSchema('embedded');
    const runner = new ProjectionRunner({ store, db, schema, projections: ALL_PROJECTIONS });
    try {
      await store.migrate();
      const history = new History(store);
      await firstHalf(history);
      await secondHalf(history);
      await busyProgramme(history, 'HN-2024-busy', 5);
      await runner.start();
      await runner.waitUntilCaughtUp(10_000);
      await runner.stop();
      const before = await Promise.all(ALL_PROJECTIONS.map((projection) => tablesOf(db, schema, projection)));

      const results = await rebuildProjections({ store, db, schema, projections: ALL_PROJECTIONS, batchSize: 4, waitForRunnerMs: 0 });
      const events = (await store.readAll({ limit: 1_000 })).length;
      expect(results.map((r) => [r.projection, r.events])).toEqual(ALL_PROJECTIONS.map((p) => [p.name, events]));
      expect(await Promise.all(ALL_PROJECTIONS.map((projection) => tablesOf(db, schema, projection)))).toEqual(before);
      expect((await verifyReadModels({ store, db, schema })).differences).toEqual([]);
    } finally {
      await runner.stop();
      await db.close();
    }
  });
});
