import { ProgrammeEvent, applicationStream, programmeStream } from '@kcflow/domain';
import { InMemoryEventStore, PostgresEventStore, RecordedEvent, formatPosition } from '@kcflow/event-store';
import {
  ALL_PROJECTIONS,
  ApplicationPage,
  Projection,
  ProjectionRunner,
  applicationsProjection,
  budgetProjection,
  budgetSummary,
  handleBatch,
  listApplications,
  migrateProjection,
  migrateStreamRevisions,
  outcomeReport,
  programmeBudget,
} from '@kcflow/read-models';
import { PgDatabase, PgliteDatabase, SqlDatabase, quoteSchema } from '@kcflow/sql';
import { History, M, PROGRAMME, admin, firstHalf, secondHalf } from '../support/read-model-history';
import { POSTGRES_URL, describeWithPostgres, uniqueSchema } from '../support/services';

jest.setTimeout(60_000);

const EXPECTED_BUDGET = {
  programmeId: PROGRAMME,
  categories: [
    { category: 'vocational_training', allocated: 500 * M, committed: 0, disbursed: 0, available: 500 * M, applicationsApproved: 0, applicationsPaid: 0 },
    { category: 'demonstration_model', allocated: 2_000 * M, committed: 420 * M, disbursed: 420 * M, available: 1_580 * M, applicationsApproved: 1, applicationsPaid: 1 },
    { category: 'advanced_equipment', allocated: 1_000 * M, committed: 450 * M, disbursed: 250 * M, available: 550 * M, applicationsApproved: 2, applicationsPaid: 1 },
  ],
  totals: { allocated: 3_500 * M, committed: 870 * M, disbursed: 670 * M, available: 2_630 * M, applicationsApproved: 3, applicationsPaid: 2 },
  districts: [
    { district: 'Chương Mỹ', committed: 250 * M, disbursed: 250 * M, applications: 1 },
    { district: 'Thường Tín', committed: 620 * M, disbursed: 420 * M, applications: 2 },
  ],
};

async function until(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('Condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every row of every table the projection owns, in a stable order. */
async function snapshot(db: SqlDatabase, schema: string, projection: Projection): Promise<Record<string, unknown[]>> {
  const tables: Record<string, unknown[]> = {};
  for (const table of projection.tables) tables[table] = await db.query(`SELECT * FROM ${quoteSchema(schema)}.${table} ORDER BY 1, 2`);
  return tables;
}

function readModelCases(openDatabase: () => Promise<SqlDatabase>): void {
  let db: SqlDatabase;
  let schema: string;
  let store: InMemoryEventStore;
  let history: History;
  let runners: ProjectionRunner[];

  const runner = (projections: readonly Projection[] = ALL_PROJECTIONS, batchSize?: number) => {
    const created = new ProjectionRunner({ store, db, schema, projections, batchSize });
    runners.push(created);
    return created;
  };

  beforeAll(async () => {
    db = await openDatabase();
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(() => {
    schema = uniqueSchema('read_models');
    store = new InMemoryEventStore();
    history = new History(store);
    runners = [];
  });
  afterEach(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    await store.close();
    await db.query(`DROP SCHEMA IF EXISTS ${quoteSchema(schema)} CASCADE`);
  });

  describe('applications list', () => {
    let page: ApplicationPage;

    beforeEach(async () => {
      await firstHalf(history);
      await secondHalf(history);
      const running = runner();
      await running.start();
      await running.waitUntilCaughtUp(10_000);
      page = await listApplications(db, schema, { programmeId: PROGRAMME });
    });

    it('shows each application as its events left it', async () => {
      expect(page.items.map((item) => [item.id, item.status, item.paymentStatus])).toEqual([
        ['a1', 'evaluated', 'full'],
        ['a2', 'closed', 'partial'],
        ['a3', 'rejected', 'none'],
        ['a4', 'withdrawn', 'none'],
        ['a5', 'approved', 'none'],
      ]);
      expect(page.items[0]).toEqual({
        id: 'a1',
        programmeId: PROGRAMME,
        category: 'advanced_equipment',
        status: 'evaluated',
        paymentStatus: 'full',
        applicantName: 'Công ty TNHH Mây tre Phú Vinh',
        taxCode: '0101000001',
        applicantKind: 'enterprise',
        district: 'Chương Mỹ',
        commune: 'Phú Nghĩa',
        craftVillage: 'Phú Vinh',
        ownerId: 'owner-a1',
        title: 'Dự án a1',
        totalCost: 600 * M,
        requestedAmount: 250 * M,
        approvedAmount: 250 * M,
        disbursedAmount: 250 * M,
        score: 85,
        submittedAt: '2024-03-01T01:06:00.000Z',
        updatedAt: '2024-03-01T01:12:00.000Z',
        revision: 5,
      });
      const amended = page.items[2];
      expect([amended.title, amended.totalCost, amended.requestedAmount, amended.score, amended.approvedAmount]).toEqual([
        'Máy cắt laser',
        500 * M,
        150 * M,
        40,
        null,
      ]);
      expect(page.nextCursor).toBeNull();
    });

    it('filters by status, category, district, owner and programme', async () => {
      const ids = async (filter: Parameters<typeof listApplications>[2]) =>
        (await listApplications(db, schema, filter)).items.map((item) => item.id);

      expect(await ids({ status: 'approved' })).toEqual(['a5']);
      expect(await ids({ category: 'advanced_equipment' })).toEqual(['a1', 'a3', 'a5']);
      expect(await ids({ district: 'Chương Mỹ' })).toEqual(['a1', 'a3']);
      expect(await ids({ district: 'Ứng Hòa' })).toEqual(['a4', 'a6']);
      expect(await ids({ district: 'Ứng Hòa', programmeId: PROGRAMME })).toEqual(['a4']);
      expect(await ids({ ownerId: 'owner-a2' })).toEqual(['a2']);
      expect(await ids({ programmeId: 'HN-2024-national' })).toEqual(['a6', 'a7']);
      expect(await ids({ programmeId: 'no-such-programme' })).toEqual([]);
    });

    it('searches names and tax codes regardless of case and diacritics', async () => {
      const ids = async (search: string) => (await listApplications(db, schema, { search })).items.map((item) => item.id);

      expect(await ids('NGUYỄN')).toEqual(['a3']);
      expect(await ids('nguyen van')).toEqual(['a3']);
      expect(await ids('gốm bát')).toEqual(['a5']);
      expect(await ids('0101000002')).toEqual(['a2']);
      expect(await ids('htx')).toEqual(['a2']);
      // LIKE's wildcards are taken literally.
      expect(await ids('%')).toEqual([]);
      expect(await ids('_')).toEqual([]);
    });

    it('pages with an opaque cursor, in (submittedAt, id) order, without gaps or repeats', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      const sizes: number[] = [];
      do {
        const next = await listApplications(db, schema, { limit: 3, cursor });
        seen.push(...next.items.map((item) => item.id));
        sizes.push(next.items.length);
        cursor = next.nextCursor ?? undefined;
        if (cursor) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      } while (cursor);

      // a6 and a7 were submitted at the same instant: the id breaks the tie.
      expect(seen).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7']);
      expect(sizes).toEqual([3, 3, 1]);

      const filtered = await listApplications(db, schema, { category: 'advanced_equipment', limit: 2 });
      expect(filtered.items.map((item) => item.id)).toEqual(['a1', 'a3']);
      const rest = await listApplications(db, schema, { category: 'advanced_equipment', limit: 2, cursor: filtered.nextCursor! });
      expect(rest).toEqual({ items: [expect.objectContaining({ id: 'a5' })], nextCursor: null });
    });

    it('clamps the limit and refuses a cursor it did not make', async () => {
      expect((await listApplications(db, schema, {})).items).toHaveLength(7);
      expect((await listApplications(db, schema, { limit: 0 })).items).toHaveLength(1);
      await expect(listApplications(db, schema, { cursor: 'not-a-cursor' })).rejects.toMatchObject({ code: 'invalid_input' });
      const forged = Buffer.from(JSON.stringify(['yesterday', 'a1'])).toString('base64url');
      await expect(listApplications(db, schema, { cursor: forged })).rejects.toMatchObject({ code: 'invalid_input' });
    });
  });

  describe('outcome report', () => {
    const none = { target: null, expected: 0, achieved: 0, percentOfMin: null };
    const range = (min: number, max: number) => ({ min, max });

    beforeEach(async () => {
      await firstHalf(history);
      await secondHalf(history);
      // A 2023 programme, where a1's facility (same tax code) was supported too.
      await history.openProgramme('HN-2023-city', { trade_fair: 100 * M }, 2023);
      await history.submit('a8', 'trade_fair', { name: 'Công ty TNHH Mây tre Phú Vinh', district: 'Chương Mỹ', taxCode: '0101000001' }, {
        totalCost: 100 * M,
        requestedAmount: 20 * M,
        expectedOutcomes: { jobs_created: 4 },
      }, 'HN-2023-city');
      await history.review('a8', 80);
      await history.approve('a8', 'trade_fair', 20 * M, 'HN-2023-city');
      await history.evaluate('a8', 'achieved', { jobs_created: 3, new_designs: 700 });
      const running = runner();
      await running.start();
      await running.waitUntilCaughtUp(10_000);
    });

    it('sums what approved applications expect and what evaluations achieved, against the targets', async () => {
      // Approved: a1, a2 (closed after a failed evaluation: still counts), a5; not a3 (rejected) or a4 (withdrawn).
      expect(await outcomeReport(db, schema, { programmeId: PROGRAMME })).toEqual({
        programmeId: PROGRAMME,
        indicators: [
          { indicator: 'jobs_created', target: null, expected: 35, achieved: 14, percentOfMin: null },
          { indicator: 'workers_trained', ...none },
          { indicator: 'managers_trained', ...none },
          { indicator: 'new_designs', target: range(650, 800), expected: 30, achieved: 5, percentOfMin: 0.8 },
          { indicator: 'fair_participations', ...none },
          { indicator: 'facilities_equipped', target: range(10, 15), expected: 2, achieved: 1, percentOfMin: 10 },
          { indicator: 'export_value_vnd', ...none },
        ],
        // a1 and a5 are one facility (one tax code) in one year.
        supportedFacilities: 2,
      });
      expect(await outcomeReport(db, schema, { programmeId: 'no-such-programme' })).toBeUndefined();
    });

    it('sums targets and figures over a span of years, counting a facility once per year', async () => {
      const span = await outcomeReport(db, schema, { from: 2023, to: 2024 });
      expect(span).toMatchObject({ from: 2023, to: 2024, supportedFacilities: 3 });
      expect(span?.indicators.filter((i) => i.target || i.expected || i.achieved)).toEqual([
        { indicator: 'jobs_created', target: null, expected: 39, achieved: 17, percentOfMin: null },
        // Three programmes (2023 city, 2024 city and national) set this target: they add up.
        { indicator: 'new_designs', target: range(1950, 2400), expected: 30, achieved: 705, percentOfMin: 36.2 },
        { indicator: 'facilities_equipped', target: range(30, 45), expected: 2, achieved: 1, percentOfMin: 3.3 },
      ]);

      const y2023 = await outcomeReport(db, schema, { from: 2023, to: 2023 });
      expect(y2023?.supportedFacilities).toBe(1);
      expect(y2023?.indicators.find((i) => i.indicator === 'new_designs')).toEqual({
        indicator: 'new_designs', target: range(650, 800), expected: 0, achieved: 700, percentOfMin: 107.7,
      });
      expect(await outcomeReport(db, schema, { from: 2025 })).toEqual({ from: 2025, indicators: expect.any(Array), supportedFacilities: 0 });
      expect(await outcomeReport(db, schema)).toEqual({ ...span, from: undefined, to: undefined });
    });

    it('sums budgets per plan year and funding source', async () => {
      const summary = await budgetSummary(db, schema, { year: 2024 });
      expect(summary.programmes.map((p) => [p.programmeId, p.year, p.fundingSource, p.allocated, p.committed])).toEqual([
        [PROGRAMME, 2024, 'city', 3_500 * M, 870 * M],
        ['HN-2024-national', 2024, 'national', 300 * M, 0],
      ]);
      expect(summary.groups).toEqual([
        { year: 2024, fundingSource: 'city', programmes: 1, ...EXPECTED_BUDGET.totals },
        { year: 2024, fundingSource: 'national', programmes: 1, allocated: 300 * M, committed: 0, disbursed: 0, available: 300 * M, applicationsApproved: 0, applicationsPaid: 0 },
      ]);
      expect(summary.totals).toEqual({ ...EXPECTED_BUDGET.totals, allocated: 3_800 * M, available: 2_930 * M });
      const all = await budgetSummary(db, schema);
      expect(all.groups.map((g) => [g.year, g.fundingSource, g.committed])).toEqual([[2023, 'city', 20 * M], [2024, 'city', 870 * M], [2024, 'national', 0]]);
      expect((await budgetSummary(db, schema, { fundingSource: 'national' })).programmes.map((p) => p.programmeId)).toEqual(['HN-2024-national']);
    });
  });

  describe('programme budget', () => {
    it('gives allocations, commitments, disbursements and availability per category, in the vocabulary order', async () => {
      await firstHalf(history);
      await secondHalf(history);
      const running = runner();
      await running.start();
      await running.waitUntilCaughtUp(10_000);

      expect(await programmeBudget(db, schema, PROGRAMME)).toEqual(EXPECTED_BUDGET);
      expect(await programmeBudget(db, schema, 'HN-2024-national')).toEqual({
        programmeId: 'HN-2024-national',
        categories: [{ category: 'trade_fair', allocated: 300 * M, committed: 0, disbursed: 0, available: 300 * M, applicationsApproved: 0, applicationsPaid: 0 }],
        totals: { allocated: 300 * M, committed: 0, disbursed: 0, available: 300 * M, applicationsApproved: 0, applicationsPaid: 0 },
        districts: [],
      });
      expect(await programmeBudget(db, schema, 'no-such-programme')).toBeUndefined();
    });

    it('keeps the programme, its latest allocation and its targets', async () => {
      await history.openProgramme(PROGRAMME, { trade_fair: 100 * M });
      await history.append(programmeStream(PROGRAMME), { type: 'BudgetAllocated', data: { programmeId: PROGRAMME, category: 'trade_fair', amount: 250 * M } }, admin);
      const running = runner([budgetProjection]);
      await running.start();
      await running.waitUntilCaughtUp(10_000);

      expect((await programmeBudget(db, schema, PROGRAMME))?.totals.allocated).toBe(250 * M);
      expect(await db.query(`SELECT id, name, year, funding_source, targets, advance_share FROM ${quoteSchema(schema)}.programmes`)).toEqual([
        {
          id: PROGRAMME,
          name: 'Kế hoạch khuyến công 2024',
          year: 2024,
          funding_source: 'city',
          targets: { new_designs: { min: 650, max: 800 }, facilities_equipped: { min: 10, max: 15 } },
          advance_share: 0.7,
        },
      ]);
    });
  });

  describe('redelivery, failures and restarts', () => {
    it.each(ALL_PROJECTIONS.map((projection) => [projection.name, projection] as const))(
      '%s gives the same rows when a batch is delivered twice',
      async (_name, projection) => {
        await firstHalf(history);
        await secondHalf(history);
        const events = await store.readAll({ limit: 1_000 });
        await runner([projection]).migrate();
        const deliver = (batch: RecordedEvent[]) => db.transaction((tx) => handleBatch(tx, projection, batch, schema));

        await deliver(events);
        const once = await snapshot(db, schema, projection);
        expect(Object.values(once).some((rows) => rows.length > 0)).toBe(true);

        await deliver(events);
        await deliver(events.slice(10, 30));
        // Also within one batch, each event twice in a row.
        await deliver(events.flatMap((event) => [event, event]));
        // And one event at a time.
        for (const event of events) await deliver([event]);
        expect(await snapshot(db, schema, projection)).toEqual(once);
      },
    );

    it.each(ALL_PROJECTIONS.map((projection) => [projection.name, projection] as const))(
      '%s gives the same rows however the events are cut into batches',
      async (_name, projection) => {
        await firstHalf(history);
        await secondHalf(history);
        const events = await store.readAll({ limit: 1_000 });
        // The history mixes programme and application streams, several events of each.
        expect(new Set(events.map((event) => event.streamId)).size).toBeLessThan(events.length / 3);
        const cut = (size: number) => Array.from({ length: Math.ceil(events.length / size) }, (_, i) => events.slice(i * size, (i + 1) * size));
        const cuts: Record<string, RecordedEvent[][]> = {
          // As the events were applied one by one before batches: the reference.
          'one at a time': events.map((event) => [event]),
          'all in one batch': [events],
          'batches of 7': cut(7),
          // Each batch starts with the last 5 events of the one before (a partial redelivery).
          'overlapping batches': cut(10).map((batch, i) => [...events.slice(Math.max(0, i * 10 - 5), i * 10), ...batch]),
          // Redelivered whole, after each batch and its neighbour have been applied.
          'batches delivered twice': cut(9).flatMap((batch, i, all) => [batch, ...(i > 0 ? [all[i - 1], batch] : [])]),
          'each event twice within its batch': cut(8).map((batch) => batch.flatMap((event) => [event, event])),
        };
        const rows: Record<string, unknown> = {};
        for (const [i, [how, batches]] of Object.entries(cuts).entries()) {
          const side = `${schema}_${i}`;
          await db.query(`CREATE SCHEMA ${quoteSchema(side)}`);
          try {
            await migrateProjection(db, side, projection);
            for (const batch of batches) await db.transaction((tx) => handleBatch(tx, projection, batch, side));
            rows[how] = await snapshot(db, side, projection);
          } finally {
            await db.query(`DROP SCHEMA ${quoteSchema(side)} CASCADE`);
          }
        }
        for (const how of Object.keys(cuts)) expect([how, rows[how]]).toEqual([how, rows['one at a time']]);
      },
    );

    it('replays from an earlier checkpoint without counting anything twice', async () => {
      await firstHalf(history);
      await secondHalf(history);
      const first = runner();
      await first.start();
      await first.waitUntilCaughtUp(10_000);
      await first.stop();
      const listed = await listApplications(db, schema, {});

      // Move every checkpoint back to the fifth event, as a lost commit acknowledgement would.
      const fifth = (await store.readAll({ limit: 5 }))[4];
      await db.query(`UPDATE ${quoteSchema(schema)}.projection_checkpoints SET position = $1`, [formatPosition(fifth.position)]);
      const second = runner();
      await second.start();
      await second.waitUntilCaughtUp(10_000);

      expect(await programmeBudget(db, schema, PROGRAMME)).toEqual(EXPECTED_BUDGET);
      expect(await listApplications(db, schema, {})).toEqual(listed);
    });

    it('resumes from its checkpoint after a restart, counting each event once', async () => {
      await firstHalf(history);
      const first = runner(ALL_PROJECTIONS, 7);
      await first.start();
      await first.waitUntilCaughtUp(10_000);
      await first.stop();
      const before = await first.status();
      expect(before.map((s) => s.running)).toEqual(ALL_PROJECTIONS.map(() => false));

      await secondHalf(history);
      const second = runner(ALL_PROJECTIONS, 7);
      await second.start();
      await second.waitUntilCaughtUp(10_000);

      const total = (await store.readAll({ limit: 1_000 })).length;
      const head = await store.headPosition();
      expect(await second.status()).toEqual(
        ALL_PROJECTIONS.map((projection) => ({
          name: projection.name,
          position: formatPosition(head!),
          eventsApplied: total,
          lastError: null,
          lastErrorEventId: null,
          updatedAt: expect.any(Date),
          running: true,
        })),
      );
      expect(await programmeBudget(db, schema, PROGRAMME)).toEqual(EXPECTED_BUDGET);
      expect((await listApplications(db, schema, {})).items).toHaveLength(7);
    });

    it('stops only the projection that fails on an event, recording the event, while the others go on', async () => {
      await firstHalf(history);
      const logged: { context: Record<string, unknown>; message: string }[] = [];
      const logger = { info: () => undefined, warn: () => undefined, error: (context: object, message: string) => logged.push({ context: context as Record<string, unknown>, message }) };
      const running = new ProjectionRunner({ store, db, schema, projections: ALL_PROJECTIONS, batchSize: 10, logger });
      runners.push(running);
      await running.start();
      await running.waitUntilCaughtUp(10_000);
      const budgetBefore = await programmeBudget(db, schema, PROGRAMME);

      const poison = await history.append(
        programmeStream(PROGRAMME),
        { type: 'BudgetAllocated', data: { programmeId: PROGRAMME, category: 'trade_fair', amount: 'lots' } } as unknown as ProgrammeEvent,
        admin,
      );
      await secondHalf(history);
      await running.waitUntilCaughtUp(10_000);

      const [applications, budget, outcomes] = await running.status();
      expect(budget).toMatchObject({ name: 'budget', running: false, lastErrorEventId: poison, lastError: expect.any(String) });
      expect(applications).toMatchObject({ name: 'applications', running: true, lastError: null });
      expect(outcomes).toMatchObject({ name: 'outcomes', running: true, lastError: null });
      expect(logged).toContainEqual({ context: expect.objectContaining({ projection: 'budget', eventId: poison }), message: expect.stringMatching(/stopped/) });
      expect((await listApplications(db, schema, {})).items.map((item) => item.id)).toContain('a7');
      // The failed batch left nothing behind: the budget is as it stood before the poison.
      expect(await programmeBudget(db, schema, PROGRAMME)).toEqual(budgetBefore);
      expect(await programmeBudget(db, schema, 'HN-2024-national')).toBeUndefined();

      // A restart meets the same event again and stops again, still pointing at it.
      await running.start();
      await until(async () => (await running.status())[1].running === false);
      expect((await running.status())[1]).toMatchObject({ running: false, lastErrorEventId: poison });
    });

    it('writes a batch and its checkpoint in one transaction: a failure mid-batch leaves neither', async () => {
      await firstHalf(history);
      await secondHalf(history);
      const events = await store.readAll({ limit: 1_000 });
      const killAt = events.find((event) => event.streamId === applicationStream('a3') && event.type === 'ApplicationReviewed')!;
      // The real projection, killed after it has written the rows of 20-odd events.
      const dying: Projection = {
        ...applicationsProjection,
        fold() {
          const fold = applicationsProjection.fold();
          let killed = false;
          return {
            get rows() {
              return fold.rows;
            },
            add(event) {
              killed ||= event.id === killAt.id;
              fold.add(event);
            },
            async write(tx, s) {
              await fold.write(tx, s);
              if (killed) throw new Error('process killed');
            },
          };
        },
      };

      const crashed = runner([dying]);
      await crashed.start();
      await until(async () => (await crashed.status())[0].running === false);
      expect((await crashed.status())[0]).toMatchObject({ position: null, eventsApplied: 0, lastError: 'process killed', lastErrorEventId: killAt.id });
      expect(await db.query(`SELECT * FROM ${quoteSchema(schema)}.applications`)).toEqual([]);
      expect(await db.query(`SELECT * FROM ${quoteSchema(schema)}.applications_stream_revisions`)).toEqual([]);

      const recovered = runner([applicationsProjection]);
      await recovered.start();
      await recovered.waitUntilCaughtUp(10_000);
      expect((await recovered.status())[0]).toMatchObject({ eventsApplied: events.length, lastError: null, lastErrorEventId: null, running: true });
      expect((await listApplications(db, schema, {})).items.map((item) => [item.id, item.status])).toEqual([
        ['a1', 'evaluated'],
        ['a2', 'closed'],
        ['a3', 'rejected'],
        ['a4', 'withdrawn'],
        ['a5', 'approved'],
        ['a6', 'submitted'],
        ['a7', 'submitted'],
      ]);
    });

    it('waitUntilCaughtUp names the projection that lags', async () => {
      await firstHalf(history);
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const stuck: Projection = {
        ...budgetProjection,
        name: 'stuck',
        createIndexes: undefined,
        createTables: (tx, s) => migrateStreamRevisions(tx, s, 'stuck'),
        fold: () => ({ rows: 0, add: () => undefined, write: () => released }),
      };
      const running = runner([applicationsProjection, stuck]);
      await running.start();

      await expect(running.waitUntilCaughtUp(200)).rejects.toThrow(/stuck at start/);
      release();
      await running.waitUntilCaughtUp(10_000);
    });
  });
}

// One PGlite instance for the file (it takes seconds to start); a fresh schema per test.
describe('read models on PGlite', () => readModelCases(() => PgliteDatabase.open(undefined)));

describeWithPostgres('read models on PostgreSQL', () => readModelCases(async () => new PgDatabase(POSTGRES_URL)));

describeWithPostgres('waiting for projections on a PostgreSQL event store', () => {
  let db: PgDatabase;
  let schema: string;
  let store: PostgresEventStore;

  beforeAll(async () => {
    db = new PgDatabase(POSTGRES_URL);
    schema = uniqueSchema('caught_up');
    store = new PostgresEventStore({ db, schema: `${schema}_es` });
    await store.migrate();
  });
  afterAll(async () => {
    await store.close();
    await db.query(`DROP SCHEMA IF EXISTS ${quoteSchema(`${schema}_es`)} CASCADE`);
    await db.query(`DROP SCHEMA IF EXISTS ${quoteSchema(schema)} CASCADE`);
    await db.close();
  });

  it('waitUntilCaughtUp waits for events committed while an older transaction elsewhere still holds readAll back', async () => {
    const runner = new ProjectionRunner({ store, db, schema, projections: ALL_PROJECTIONS });
    await runner.start();
    const elsewhere = new PgDatabase(POSTGRES_URL);
    try {
      await elsewhere.transaction(async (tx) => {
        await tx.query('SELECT pg_current_xact_id()'); // an open transaction with an id: the server-wide xmin
        await firstHalf(new History(store));

        await expect(runner.waitUntilCaughtUp(300)).rejects.toThrow(/not caught up/);
      });
      await runner.waitUntilCaughtUp(10_000);

      const page = await listApplications(db, schema, { programmeId: PROGRAMME });
      expect(page.items.length).toBeGreaterThan(0);
    } finally {
      await runner.stop();
      await elsewhere.close();
    }
  });
});
