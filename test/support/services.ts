/**
 * Tests that need a real service use these. Under CI (`CI=true`) a missing service is a
 * failure, loudly; on a developer's machine the suite is skipped with a message saying why.
 *
 * Jest collects suites synchronously, so the services are probed once in the global setup
 * (test/support/global-setup.ts), which leaves its findings in environment variables.
 */
import { SourceTextModule } from 'node:vm';
import { PgDatabase, PgliteDatabase, quoteSchema } from '@kcflow/sql';

export const isCI = process.env.CI === 'true';

export const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const KAFKA_BROKERS = process.env.TEST_KAFKA_BROKERS ?? '127.0.0.1:9092';

type Service = 'postgres' | 'kafka';

const unavailableVariable: Record<Service, string> = {
  postgres: 'KCFLOW_TEST_POSTGRES_UNAVAILABLE',
  kafka: 'KCFLOW_TEST_KAFKA_UNAVAILABLE',
};

export function describeWithService(service: Service, name: string, body: () => void): void {
  const reason = process.env[unavailableVariable[service]];
  if (!reason) {
    describe(name, body);
  } else if (isCI) {
    describe(name, () => {
      it(`needs ${service}`, () => {
        throw new Error(`CI=true but ${reason}`);
      });
    });
  } else {
    console.warn(`SKIPPED "${name}": ${reason}`);
    describe.skip(name, body);
  }
}

export const describeWithPostgres = (name: string, body: () => void) => describeWithService('postgres', name, body);
export const describeWithKafka = (name: string, body: () => void) => describeWithService('kafka', name, body);

/**
 * A describeWithPostgres whose tests share one connection pool and one schema name of this run
 * (`<prefix>_<time>_<random>`), dropped with everything in it at the end.
 */
export function describeWithPostgresSchema(name: string, prefix: string, body: (db: () => PgDatabase, schema: string) => void): void {
  describeWithPostgres(name, () => {
    const schema = uniqueSchema(prefix);
    let db: PgDatabase;
    beforeAll(() => {
      db = new PgDatabase(POSTGRES_URL);
    });
    afterAll(async () => {
      await db.query(`DROP SCHEMA IF EXISTS ${quoteSchema(schema)} CASCADE`);
      await db.close();
    });
    body(() => db, schema);
  });
}

/**
 * A describe whose tests share one in-memory PGlite (starting one takes seconds; each test
 * works in a schema of its own). PGlite loads parts of itself with import(), which Jest's
 * sandbox refuses unless Node runs with --experimental-vm-modules (electric-sql/pglite#224);
 * without it the refusal crashes the whole Jest run, so the suite says so plainly instead.
 */
export function describeWithPglite(name: string, body: (db: () => PgliteDatabase) => void): void {
  describe(name, () => {
    if (typeof SourceTextModule !== 'function') {
      it('needs NODE_OPTIONS=--experimental-vm-modules', () => {
        throw new Error('Run Jest with NODE_OPTIONS=--experimental-vm-modules: PGlite cannot start without it');
      });
      return;
    }
    let db: PgliteDatabase;
    beforeAll(async () => {
      db = await PgliteDatabase.open(undefined);
    }, 60_000);
    afterAll(() => db?.close());
    body(() => db);
  });
}

/** A fresh schema name per test run, so runs never see each other's data. */
export function uniqueSchema(prefix: string): string {
  const random = Math.random().toString(36).slice(2, 8);
  return `${prefix}_${Date.now().toString(36)}_${random}`.toLowerCase();
}
