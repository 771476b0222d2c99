import { randomUUID } from 'node:crypto';
import {
  ApplicationEvent,
  Applicant,
  Category,
  DEFAULT_CAPS,
  Project,
  ProgrammeEvent,
  applicationStream,
  programmeStream,
} from '@kcflow/domain';
import { InMemoryEventStore, RecordedEvent, formatPosition } from '@kcflow/event-store';
import {
  ALL_PROJECTIONS,
  ApplicationPage,
  Projection,
  ProjectionRunner,
  applicationsProjection,
  budgetProjection,
  listApplications,
  programmeBudget,
} from '@kcflow/read-models';
import { PgDatabase, PgliteDatabase, SqlDatabase, quoteSchema } from '@kcflow/sql';
import { POSTGRES_URL, describeWithPostgres, uniqueSchema } from '../support/services';

jest.setTimeout(60_000);

const M = 1_000_000;
const PROGRAMME = 'HN-2024-city';

type Actor = { id: string; role: string };
const admin: Actor = { id: 'admin-1', role: 'admin' };
const reviewer: Actor = { id: 'reviewer-1', role: 'reviewer' };
const committee: Actor = { id: 'committee-1', role: 'committee' };
const finance: Actor = { id: 'finance-1', role: 'finance' };

/** Appends events as the command handlers would, with a clock that moves a minute per event. */
class History {
  private clock = Date.parse('2024-03-01T01:00:00.000Z');

  constructor(readonly store: InMemoryEventStore) {}

  async append(streamId: string, event: ProgrammeEvent | ApplicationEvent, actor: Actor, at?: string): Promise<string> {
    const id = randomUUID();
    this.clock += 60_000;
    const metadata = {
      actorId: actor.id,
      role: actor.role,
      correlationId: randomUUID(),
      causationId: randomUUID(),
      occurredAt: at ?? new Date(this.clock).toISOString(),
      schemaVersion: 1,
    };
    await this.store.append(streamId, [{ id, type: event.type, data: event.data, metadata }], 'any');
    return id;
  }

  async openProgramme(programmeId: string, allocations: Partial<Record<Category, number>>): Promise<void> {
    const stream = programmeStream(programmeId);
    await this.append(
      stream,
      {
        type: 'ProgrammeOpened',
        data: { programmeId, name: 'Kế hoạch khuyến công 2024', year: 2024, fundingSource: 'city', caps: DEFAULT_CAPS, advanceShare: 0.7 },
      },
      admin,
    );
    for (const [category, amount] of Object.entries(allocations) as [Category, number][]) {
      await this.append(stream, { type: 'BudgetAllocated', data: { programmeId, category, amount } }, admin);
    }
    await this.append(
      stream,
      { type: 'TargetsSet', data: { programmeId, targets: { new_designs: { min: 650, max: 800 }, facilities_equipped: { min: 10, max: 15 } } } },
      admin,
    );
  }

  async submit(
    applicationId: string,
    category: Category,
    applicant: Partial<Applicant> & { name: string; district: string },
    project: Partial<Project> = {},
    programmeId = PROGRAMME,
    at?: string,
  ): Promise<void> {
    await this.append(
      applicationStream(applicationId),
      {
        type: 'ApplicationSubmitted',
        data: {
          applicationId,
          programmeId,
          category,
          ownerId: `owner-${applicationId}`,
          applicant: { taxCode: `0101${applicationId.replace(/\D/g, '').padStart(6, '0')}`, kind: 'enterprise', commune: 'Phú Nghĩa', ...applicant },
          project: { title: `Dự án ${applicationId}`, description: '…', totalCost: 1_000 * M, requestedAmount: 200 * M, expectedOutcomes: {}, ...project },
          cap: DEFAULT_CAPS[category],
        },
      },
      { id: `owner-${applicationId}`, role: 'applicant' },
      at,
    );
  }

  async review(applicationId: string, score: number): Promise<void> {
    await this.append(
      applicationStream(applicationId),
      { type: 'ApplicationReviewed', data: { score, recommendation: 'approve', reviewerId: reviewer.id } },
      reviewer,
    );
  }

  /** The approval as the workflow writes it: budget committed first, then the decision. */
  async approve(applicationId: string, category: Category, amount: number, programmeId = PROGRAMME): Promise<void> {
    const decision = { decisionNumber: `QĐ-${applicationId}/UBND`, decisionDate: '2024-04-02', approvedAmount: amount, approvedBy: committee.id };
    await this.append(programmeStream(programmeId), { type: 'BudgetCommitted', data: { programmeId, applicationId, category, amount, decision } }, committee);
    await this.append(
      applicationStream(applicationId),
      { type: 'ApplicationApproved', data: { ...decision, advanceShare: 0.7 } },
      committee,
    );
  }

  async disburse(applicationId: string, amount: number, paymentRef: string): Promise<void> {
    await this.append(applicationStream(applicationId), { type: 'FundsDisbursed', data: { paymentRef, amount, paidAt: '2024-05-01' } }, finance);
  }

  async evaluate(applicationId: string, rating: 'achieved' | 'not_achieved'): Promise<void> {
    await this.append(
      applicationStream(applicationId),
      { type: 'OutcomeEvaluated', data: { outcomes: { jobs_created: 12 }, rating, evaluatorId: reviewer.id } },
      reviewer,
    );
  }
}

/**
 * The first half of the year: a1 fully paid; a2 paid its advance, rated not achieved, closed
 * and the rest released; a3 amended then rejected; a4 withdrawn.
 */
async function firstHalf(history: History): Promise<void> {
  await history.openProgramme(PROGRAMME, { vocational_training: 500 * M, demonstration_model: 2_000 * M, advanced_equipment: 1_000 * M });

  await history.submit('a1', 'advanced_equipment', { name: 'Công ty TNHH Mây tre Phú Vinh', district: 'Chương Mỹ', craftVillage: 'Phú Vinh' }, {
    totalCost: 600 * M,
    requestedAmount: 250 * M,
  });
  await history.review('a1', 85);
  await history.approve('a1', 'advanced_equipment', 250 * M);
  await history.disburse('a1', 175 * M, 'UNC-0001');
  await history.evaluate('a1', 'achieved');
  await history.disburse('a1', 75 * M, 'UNC-0002');

  await history.submit('a2', 'demonstration_model', { name: 'HTX Sơn mài Hạ Thái', district: 'Thường Tín', kind: 'cooperative' }, {
    totalCost: 2_000 * M,
    requestedAmount: 600 * M,
  });
  await history.review('a2', 70);
  await history.approve('a2', 'demonstration_model', 600 * M);
  await history.disburse('a2', 420 * M, 'UNC-0003');
  await history.evaluate('a2', 'not_achieved');
  await history.append(applicationStream('a2'), { type: 'ApplicationClosed', data: { reason: 'nghiệm thu không đạt' } }, admin);
  await history.append(
    programmeStream(PROGRAMME),
    { type: 'BudgetReleased', data: { programmeId: PROGRAMME, applicationId: 'a2', category: 'demonstration_model', amount: 180 * M, reason: 'closed' } },
    admin,
  );

  await history.submit('a3', 'advanced_equipment', { name: 'Hộ kinh doanh Nguyễn Văn Bình', district: 'Chương Mỹ', kind: 'household' });
  await history.append(applicationStream('a3'), { type: 'RevisionRequested', data: { reason: 'thiếu báo giá', reviewerId: reviewer.id } }, reviewer);
  await history.append(
    applicationStream('a3'),
    { type: 'ApplicationAmended', data: { project: { title: 'Máy cắt laser', description: '…', totalCost: 500 * M, requestedAmount: 150 * M, expectedOutcomes: {} } } },
    { id: 'owner-a3', role: 'applicant' },
  );
  await history.review('a3', 40);
  await history.append(applicationStream('a3'), { type: 'ApplicationRejected', data: { reason: 'điểm thấp', rejectedBy: committee.id } }, committee);

  await history.submit('a4', 'vocational_training', { name: 'Cơ sở dệt lụa Vạn Phúc', district: 'Ứng Hòa' });
  await history.append(applicationStream('a4'), { type: 'ApplicationWithdrawn', data: { reason: 'đổi kế hoạch' } }, { id: 'owner-a4', role: 'applicant' });
}

/** a5 approved, not paid yet; a6 and a7 in another programme, submitted at the same instant. */
async function secondHalf(history: History): Promise<void> {
  await history.submit('a5', 'advanced_equipment', { name: 'Công ty CP Gốm Bát Tràng', district: 'Thường Tín' });
  await history.review('a5', 90);
  await history.approve('a5', 'advanced_equipment', 200 * M);

  await history.openProgramme('HN-2024-national', { trade_fair: 300 * M });
  await history.submit('a7', 'trade_fair', { name: 'Làng nghề Chuông', district: 'Thanh Oai' }, {}, 'HN-2024-national', '2024-06-01T00:00:00.000Z');
  await history.submit('a6', 'trade_fair', { name: 'Làng nghề Quảng Phú Cầu', district: 'Ứng Hòa' }, {}, 'HN-2024-national', '2024-06-01T00:00:00.000Z');
}

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
        const deliver = (batch: RecordedEvent[]) =>
          db.transaction(async (tx) => {
            for (const event of batch) await projection.handle(tx, event, schema);
          });

        await deliver(events);
        const once = await snapshot(db, schema, projection);
        expect(Object.values(once).some((rows) => rows.length > 0)).toBe(true);

        await deliver(events);
        await deliver(events.slice(10, 30));
        // Also within one transaction, each event twice in a row.
        await deliver(events.flatMap((event) => [event, event]));
        expect(await snapshot(db, schema, projection)).toEqual(once);
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
      expect(before.map((s) => s.running)).toEqual([false, false]);

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
      const running = runner(ALL_PROJECTIONS, 10);
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

      const [applications, budget] = await running.status();
      expect(budget).toMatchObject({ name: 'budget', running: false, lastErrorEventId: poison, lastError: expect.any(String) });
      expect(applications).toMatchObject({ name: 'applications', running: true, lastError: null });
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
        async handle(tx, event, s) {
          await applicationsProjection.handle(tx, event, s);
          if (event.id === killAt.id) throw new Error('process killed');
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
      const stuck: Projection = { ...budgetProjection, name: 'stuck', handle: () => released };
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
