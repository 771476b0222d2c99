import { PgDatabase } from '@kcflow/sql';
import { POSTGRES_URL, describeWithPostgres, uniqueSchema } from '../support/services';
import { ApiProcess, NodeProcess, dropSchemas, ensureBuilt, freePort, holderPid, startApi, startWorker, token, waitFor } from './processes';

jest.setTimeout(120_000);

interface ProjectionsBody {
  head: string | null;
  projections: { name: string; position: string | null; eventsApplied: number; running: boolean; heldBy?: string | null; lastError: string | null }[];
}

/**
 * Worker copies as real processes: one holds each projection's lease, a second waits; the
 * holder is killed (SIGKILL) and the second carries on; SIGTERM hands the leases back.
 */
describeWithPostgres('worker fail-over (real processes)', () => {
  const schema = uniqueSchema('failover');
  const processes: NodeProcess[] = [];
  let api: ApiProcess;
  let submitted = 0;
  const inspector = token('inspector');

  const projections = async (): Promise<ProjectionsBody> => {
    const res = await fetch(`${api.base}/projections`, { headers: { Authorization: `Bearer ${await inspector}` } });
    return (await res.json()) as ProjectionsBody;
  };
  const holders = async () => new Set((await projections()).projections.map((p) => holderPid(p.heldBy)));
  const heldOnlyBy = async (pid: number) => {
    const pids = await holders();
    return pids.size === 1 && pids.has(pid);
  };
  const listed = async () => {
    const res = await fetch(`${api.base}/applications?programmeId=HN-2024-failover&limit=100`, { headers: { Authorization: `Bearer ${await inspector}` } });
    return ((await res.json()) as { items: unknown[] }).items.length;
  };
  /** Every submitted application is listed, and every projection stands at the head. */
  const caughtUp = async () => {
    if ((await listed()) !== submitted) return false;
    const body = await projections();
    return body.projections.every((p) => p.position === body.head && p.lastError === null);
  };
  const worker = async () => {
    const started = await startWorker(schema);
    processes.push(started);
    return started;
  };
  const post = async (path: string, role: Parameters<typeof token>[0], body: object) => {
    const res = await fetch(`${api.base}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${await token(role, role === 'applicant' ? 'htx-1' : undefined)}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  };
  const submit = async (count: number) => {
    for (let i = 0; i < count; i++, submitted++) {
      await post('/applications', 'applicant', {
        programmeId: 'HN-2024-failover',
        category: 'product_design',
        applicant: { name: `Cơ sở ${submitted}`, taxCode: '0101234567', kind: 'household', district: 'Thường Tín', commune: 'Vạn Điểm' },
        project: { title: 'Thiết kế mẫu', description: 'Mẫu sản phẩm mới', totalCost: 100_000_000, requestedAmount: 10_000_000, expectedOutcomes: { new_designs: 3 } },
      });
    }
  };
  beforeAll(async () => {
    ensureBuilt();
    api = await startApi(schema, await freePort());
    processes.push(api);
    await post('/programmes', 'admin', { id: 'HN-2024-failover', name: 'Fail-over', year: 2024, fundingSource: 'city', allocations: { product_design: 1_000_000_000 } });
  }, 90_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
    await dropSchemas(`${schema}_es`, `${schema}_rm`);
  });

  it('one worker holds the leases, a second takes over within seconds when the first is killed, and SIGTERM hands them back', async () => {
    // 1. The first worker takes every lease; the api reports it, the second waits.
    const first = await worker();
    await waitFor(() => heldOnlyBy(first.pid), 30_000, () => `the first worker took no lease: ${first.stderr()}`, first.exited);
    const second = await worker();
    await submit(10);
    await waitFor(caughtUp, 15_000, () => 'projections did not catch up');
    expect(await heldOnlyBy(first.pid)).toBe(true);

    // 2. The holder dies without a word: its sessions end, the second worker's next attempt wins.
    await first.kill('SIGKILL');
    const killedAt = Date.now();
    await submit(10);
    await waitFor(() => heldOnlyBy(second.pid), 20_000, () => `the second worker did not take over: ${second.stderr()}`, second.exited);
    const takeOverMs = Date.now() - killedAt;
    await waitFor(caughtUp, 15_000, () => 'projections did not catch up after the take-over');
    expect(takeOverMs).toBeLessThan(15_000);

    // 3. Every event was counted once, whoever applied it.
    const db = new PgDatabase(POSTGRES_URL);
    const [{ count }] = await db.query<{ count: string }>(`SELECT count(*) FROM "${schema}_es".events`).finally(() => db.close());
    const body = await projections();
    expect(body.projections.map((p) => p.eventsApplied)).toEqual(body.projections.map(() => Number(count)));

    // 4. SIGTERM: the batch in hand finishes, the leases are released, exit 0. Nobody runs them now,
    //    and readiness says so without taking the api out of service.
    expect(await second.kill('SIGTERM')).toBe(0);
    expect(await holders()).toEqual(new Set([undefined]));
    const ready = await fetch(`${api.base}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'degraded', checks: { eventStore: { status: 'up' }, readModels: { status: 'up' }, projections: { status: 'down' } } });

    // 5. A new copy picks up where the checkpoints stand.
    const third = await worker();
    await waitFor(() => heldOnlyBy(third.pid), 20_000, () => `the third worker took no lease: ${third.stderr()}`, third.exited);
    await submit(5);
    await waitFor(caughtUp, 15_000, () => 'projections did not catch up under the third worker');
    expect(await (await fetch(`${api.base}/health/ready`)).json()).toMatchObject({ status: 'up', checks: { projections: { status: 'up' } } });
  });
});
