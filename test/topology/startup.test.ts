import { POSTGRES_URL, describeWithPostgres, uniqueSchema } from '../support/services';
import { dropSchemas, ensureBuilt, freePort, spawnNode, startApi } from './processes';

/**
 * Start-up of the built api and worker: a wrong configuration stops each with exit 78
 * (EX_CONFIG) and a message naming the variable; a store that does not answer stops it
 * with a message naming the variable that points at it. No EventStoreDB server exists here:
 * the connection is refused, which is exactly the failure under test (nothing is faked).
 */
const MAINS = { api: 'dist/apps/api/src/main.js', worker: 'dist/apps/worker/src/main.js' };

async function run(main: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawnNode(main, { LOG_LEVEL: 'silent', PORT: '0', ...env });
  const code = await child.exited;
  return { code, stderr: child.stderr() };
}

const storeSchema = uniqueSchema('startup_es');

beforeAll(() => ensureBuilt(), 120_000);
afterAll(() => dropSchemas(storeSchema, `${storeSchema}_es`, `${storeSchema}_rm`).catch(() => undefined));

describe.each(Object.entries(MAINS))('%s start-up', (_name, main) => {
  it('refuses a bad EVENT_STORE with exit 78, naming the variable', async () => {
    const { code, stderr } = await run(main, { EVENT_STORE: 'mongodb' });
    expect(code).toBe(78);
    expect(stderr).toContain('EVENT_STORE must be one of pglite, postgres, memory, esdb (got "mongodb")');
  });

  it('lists every problem at once: esdb without its connection string or read-model database', async () => {
    const { code, stderr } = await run(main, { EVENT_STORE: 'esdb' });
    expect(code).toBe(78);
    expect(stderr).toContain('ESDB_CONNECTION_STRING is required when EVENT_STORE=esdb');
    expect(stderr).toContain('READ_MODEL_URL is required when EVENT_STORE=esdb');
  });

  it('stops with a clear message when EventStoreDB does not answer', async () => {
    const { code, stderr } = await run(main, {
      EVENT_STORE: 'esdb',
      ESDB_CONNECTION_STRING: 'esdb://admin:s3cret@127.0.0.1:1?tls=false&defaultDeadline=3000',
      READ_MODEL_URL: POSTGRES_URL,
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/Cannot open the event store \(check ESDB_CONNECTION_STRING\): EventStoreDB did not answer: .*ECONNREFUSED 127\.0\.0\.1:1/);
    expect(stderr).not.toContain('s3cret');
  }, 30_000);

  describeWithPostgres('with the event store on PostgreSQL', () => {
    it('names the read-model database when it does not answer', async () => {
      const { code, stderr } = await run(main, {
        EVENT_STORE: 'postgres',
        EVENT_STORE_URL: POSTGRES_URL,
        EVENT_STORE_SCHEMA: storeSchema,
        READ_MODEL_URL: 'postgres://postgres@127.0.0.1:1/test',
        PROJECTIONS_IN_PROCESS: 'false',
      });
      expect(code).toBe(1);
      expect(stderr).toMatch(/Cannot open the read-model database \(check READ_MODEL_URL\): .*ECONNREFUSED/);
    }, 30_000);
  });
});

describeWithPostgres('api readiness', () => {
  it('reports Kafka when KAFKA_BROKERS is set, and a broker that does not answer degrades it without a 503', async () => {
    const api = await startApi(storeSchema, await freePort(), { KAFKA_BROKERS: '127.0.0.1:1' });
    try {
      const res = await fetch(`${api.base}/health/ready`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        status: 'degraded',
        checks: { eventStore: { status: 'up' }, readModels: { status: 'up' }, kafka: { status: 'down', detail: expect.any(String) } },
      });
    } finally {
      await api.kill('SIGKILL');
    }
  }, 60_000);
});
