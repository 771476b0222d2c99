import { PostgresEventStore } from '@kcflow/event-store';
import { ALL_PROJECTIONS, ProjectionRunner, listApplications, programmeBudget } from '@kcflow/read-models';
import { PgDatabase, quoteSchema } from '@kcflow/sql';
import { POSTGRES_URL, describeWithPostgres, uniqueSchema } from '../support/services';
import { ApiProcess, NodeProcess, dropSchemas, ensureBuilt, freePort, holderPid, sleep, startApi, startWorker, token, waitFor } from './processes';

jest.setTimeout(300_000);

/**
 * The production split on this machine: the api (no projections) and two worker copies as
 * real processes on PostgreSQL — event store in one schema, read models in a second — driven
 * over HTTP by concurrent clients while a lease-holding worker and the api are each killed
 * (SIGKILL) and replaced mid-load. Then: every acknowledged command is in the store, and the
 * read models equal a rebuild from scratch into a third schema.
 */
const CLIENTS = 8;
const APPLICATIONS_PER_CLIENT = 12;
const PROGRAMMES = ['HN-2024-A', 'HN-2024-B', 'HN-2024-C', 'HN-2024-D'];
const ALLOCATION = 3_000_000_000; // ten approvals of 300,000,000 per programme: the rest are refused (409)

type Role = Parameters<typeof token>[0];
interface Ack {
  stream: string;
  revision: number;
  type?: string;
}

describeWithPostgres('split topology: api and workers as separate processes, killed mid-load', () => {
  const schema = uniqueSchema('topology');
  const rebuilt = `${schema}_rb`;
  const processes: NodeProcess[] = [];
  let port: number;
  let api: ApiProcess;
  let db: PgDatabase;
  const acks: Ack[] = [];
  const kills: string[] = [];
  let unanswered = 0;
  const tokens = new Map<string, Promise<string>>();
  const bearer = (role: Role, sub = `${role}-1`) => {
    if (!tokens.has(sub)) tokens.set(sub, token(role, sub));
    return tokens.get(sub)!;
  };

  /** One HTTP call; undefined when no answer came (the api was killed or is restarting). */
  async function call(method: 'GET' | 'POST', path: string, role: Role, sub?: string, body?: object) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: { Authorization: `Bearer ${await bearer(role, sub)}`, ...(body && { 'Content-Type': 'application/json' }) },
        body: body && JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
      return { status: res.status, body: (await res.json().catch(() => undefined)) as Record<string, any> };
    } catch {
      return undefined;
    }
  }

  /** A command; a 2xx answer is an acknowledgement, to be found in the store afterwards. */
  async function command(path: string, role: Role, body: object, stream: (answer: Record<string, any>) => string, type?: string, sub?: string) {
    const res = await call('POST', path, role, sub, body);
    if (!res) unanswered++;
    else if (res.status < 300) acks.push({ stream: stream(res.body), revision: res.body.revision, type });
    return res;
  }

  /** One application through submission, review, approval and an advance, whatever the api goes through. */
  async function lifeOf(client: number, n: number): Promise<string> {
    const programmeId = PROGRAMMES[(client * APPLICATIONS_PER_CLIENT + n) % PROGRAMMES.length];
    const applicant = `htx-${client}`;
    let id: string | undefined;
    for (let attempt = 0; !id; attempt++) {
      if (attempt > 200) throw new Error(`client ${client}: could not submit`);
      const res = await command(
        '/applications',
        'applicant',
        {
          programmeId,
          category: 'advanced_equipment',
          applicant: { name: `HTX ${client}-${n}`, taxCode: '0101234567', kind: 'cooperative', district: ['Chương Mỹ', 'Thường Tín'][n % 2], commune: 'Phú Nghĩa' },
          project: { title: `Máy ${n}`, description: 'Dây chuyền', totalCost: 600_000_000, requestedAmount: 300_000_000, expectedOutcomes: { jobs_created: 5, facilities_equipped: 1 } },
        },
        (answer) => `application-${answer.id}`,
        'ApplicationSubmitted',
        applicant,
      );
      if (res?.status === 201) id = res.body.id as string;
      else await sleep(100);
    }
    const stream = () => `application-${id}`;
    for (let step = 0; step < 300; step++) {
      const state = await call('GET', `/applications/${id}`, 'inspector');
      if (!state || state.status !== 200) {
        await sleep(100);
        continue;
      }
      const { status, paymentStatus } = state.body;
      let res;
      if (status === 'submitted') {
        res = await command(`/applications/${id}/reviews`, 'reviewer', { score: 80, recommendation: 'approve', recommendedAmount: 300_000_000 }, stream, 'ApplicationReviewed');
      } else if (status === 'reviewed') {
        res = await command(`/applications/${id}/approval`, 'committee', { decisionNumber: `${n}/QĐ-UBND`, decisionDate: '2024-05-02', approvedAmount: 300_000_000 }, stream, 'ApplicationApproved');
        if (res?.status === 409) return 'refused'; // the programme's allocation is spent
      } else if (status === 'approved' && paymentStatus === 'none') {
        res = await command(`/applications/${id}/disbursements`, 'finance', { paymentRef: `KBNN-${id}`, amount: 150_000_000, paidAt: '2024-06-01' }, stream, 'FundsDisbursed');
      } else if (status === 'approved') {
        return 'paid';
      } else {
        throw new Error(`application ${id} is ${status}`);
      }
      if (!res || res.status >= 500) await sleep(100);
    }
    throw new Error(`application ${id} did not get through`);
  }

  const inspectorGet = async <T>(path: string): Promise<T> => {
    const res = await call('GET', path, 'inspector');
    if (res?.status !== 200) throw new Error(`${path}: ${res?.status}`);
    return res.body as T;
  };
  type ProjectionsBody = { head: string | null; projections: { name: string; position: string | null; lastError: string | null; heldBy?: string | null }[] };

  async function killLeaseHolder(): Promise<void> {
    const body = await inspectorGet<ProjectionsBody>('/projections');
    const pid = holderPid(body.projections.find((p) => p.heldBy)?.heldBy);
    const holder = processes.find((p) => p.pid === pid);
    if (!holder) throw new Error(`no worker of this test holds a lease: ${JSON.stringify(body)}`);
    await holder.kill('SIGKILL');
    kills.push(`worker ${pid}`);
    // A replacement copy, started in the background: the load does not wait for it.
    replacements.push(startWorker(schema, workerEnv).then((worker) => void processes.push(worker)));
  }

  async function killApi(): Promise<void> {
    await api.kill('SIGKILL');
    kills.push(`api ${api.pid}`);
    await sleep(300);
    api = await startApi(schema, port);
    processes.push(api);
  }

  const workerEnv = { RECONCILE_INTERVAL_SECONDS: '1', RECONCILE_GRACE_SECONDS: '2' };
  const replacements: Promise<void>[] = [];

  beforeAll(async () => {
    ensureBuilt();
    db = new PgDatabase(POSTGRES_URL);
    port = await freePort();
    api = await startApi(schema, port);
    processes.push(api, ...(await Promise.all([startWorker(schema, workerEnv), startWorker(schema, workerEnv)])));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
    await db?.close();
    await dropSchemas(`${schema}_es`, `${schema}_rm`, rebuilt);
  });

  it('keeps every acknowledged command and converges to the figures of a fresh rebuild', async () => {
    // 1. Programmes, then the load: concurrent clients, each walking its applications through.
    for (const id of PROGRAMMES) {
      const res = await command(
        '/programmes',
        'admin',
        { id, name: `Kế hoạch ${id}`, year: 2024, fundingSource: 'city', allocations: { advanced_equipment: ALLOCATION, product_design: 500_000_000 } },
        () => `programme-${id}`,
      );
      expect(res?.status).toBe(201);
    }
    let loadDone = false;
    const load = Promise.all(
      Array.from({ length: CLIENTS }, async (_, client) => {
        const outcomes: string[] = [];
        for (let n = 0; n < APPLICATIONS_PER_CLIENT; n++) outcomes.push(await lifeOf(client, n));
        return outcomes;
      }),
    ).finally(() => (loadDone = true));

    // 2. Meanwhile: kill a lease-holding worker, the api, a worker again, the api again.
    const chaos = (async () => {
      for (const [threshold, act] of [
        [20, killLeaseHolder],
        [50, killApi],
        [80, killLeaseHolder],
        [110, killApi],
      ] as const) {
        while (acks.length < threshold && !loadDone) await sleep(50);
        if (loadDone) return;
        await act();
      }
    })();
    const [outcomes] = await Promise.all([load, chaos]);
    await Promise.all(replacements);
    const paid = outcomes.flat().filter((o) => o === 'paid').length;
    expect(kills.map((kill) => kill.split(' ')[0])).toEqual(['worker', 'api', 'worker', 'api']);
    expect(unanswered).toBeGreaterThan(0); // the clients did see the api go away
    expect(paid).toBe(PROGRAMMES.length * 10);

    // 3. Every acknowledged command is in the store, as the event its answer reported.
    const events = await db.query<{ stream_id: string; stream_revision: string; type: string }>(
      `SELECT stream_id, stream_revision, type FROM ${quoteSchema(`${schema}_es`)}.events`,
    );
    const stored = new Map(events.map((e) => [`${e.stream_id}@${e.stream_revision}`, e.type]));
    const missing = acks.filter((ack) => !stored.has(`${ack.stream}@${ack.revision}`) || (ack.type && stored.get(`${ack.stream}@${ack.revision}`) !== ack.type));
    expect(missing).toEqual([]);
    // A command cut off by a kill may be written without being acknowledged (at most one per
    // client per api kill): 4 + 96 × 2 + 40 × 2 = 276 writes, at least 260 acknowledged.
    expect(acks.length).toBeGreaterThanOrEqual(260);

    // 4. Quiet: reconciliation has repaired any approval cut in half by a kill (the head has
    //    not moved for longer than its interval and grace, 1 s + 2 s), and the workers have
    //    applied everything, as the api reports it from the checkpoints.
    let head = '';
    let stillSince = Date.now();
    await waitFor(
      async () => {
        const body = await inspectorGet<ProjectionsBody>('/projections');
        if (body.head !== head) [head, stillSince] = [body.head ?? '', Date.now()];
        return Date.now() - stillSince > 4_000 && body.projections.every((p) => p.position === head && !p.lastError && p.heldBy);
      },
      60_000,
      () => 'the read models did not settle',
    );

    // 5. A fresh rebuild from the store into a third schema reaches the same checkpoints and
    //    the same tables, row for row.
    const store = new PostgresEventStore({ db, schema: `${schema}_es` });
    const fresh = new ProjectionRunner({ store, db, schema: rebuilt, projections: ALL_PROJECTIONS });
    await fresh.start();
    const positions = async (s: string) => db.query(`SELECT name, position FROM ${quoteSchema(s)}.projection_checkpoints ORDER BY name`);
    await waitFor(async () => JSON.stringify(await positions(rebuilt)) === JSON.stringify(await positions(`${schema}_rm`)), 60_000, () => 'the rebuild did not reach the live checkpoints');
    await fresh.stop();
    const rows = async (s: string, table: string) =>
      (await db.query(`SELECT * FROM ${quoteSchema(s)}.${table}`)).map((row) => JSON.stringify(row)).sort();
    for (const projection of ALL_PROJECTIONS) {
      for (const table of projection.tables) expect({ table, rows: await rows(`${schema}_rm`, table) }).toEqual({ table, rows: await rows(rebuilt, table) });
    }

    // 6. And the same figures over HTTP; the allocation was never exceeded, and every
    //    commitment belongs to an approval.
    for (const id of PROGRAMMES) {
      const budget = await inspectorGet<{ categories: { category: string; allocated: number; committed: number }[] }>(`/programmes/${id}/budget`);
      expect(budget).toEqual(await programmeBudget(db, rebuilt, id));
      const equipment = budget.categories.find((c) => c.category === 'advanced_equipment')!;
      const approved = (await listApplications(db, rebuilt, { programmeId: id, status: 'approved', limit: 100 })).items;
      expect({ id, committed: equipment.committed }).toEqual({ id, committed: approved.reduce((sum, a) => sum + (a.approvedAmount ?? 0), 0) });
      expect(equipment.committed).toBeLessThanOrEqual(ALLOCATION);
    }
  });
});
