import { SourceTextModule } from 'node:vm';
import { PostgresEventStore } from '@kcflow/event-store';
import { PgliteDatabase } from '@kcflow/sql';
import { describeEventStoreContract } from '../../libs/event-store/src/testing/event-store.contract';
import { uniqueSchema } from '../support/services';
import { describePostgresEventStoreCases } from './postgres-event-store.cases';

// PGlite loads parts of itself with import(), which Jest's sandbox refuses unless Node runs
// with --experimental-vm-modules (electric-sql/pglite#224); without it the refusal crashes
// the whole Jest run, so say so plainly instead.
if (typeof SourceTextModule !== 'function') {
  describe('PostgresEventStore on PGlite', () => {
    it('needs NODE_OPTIONS=--experimental-vm-modules', () => {
      throw new Error('Run Jest with NODE_OPTIONS=--experimental-vm-modules: PGlite cannot start without it');
    });
  });
} else {
  // Starting PGlite takes seconds, so the file shares one in-memory instance; each
  // describe works in a schema of its own.
  let db: PgliteDatabase;

  beforeAll(async () => {
    db = await PgliteDatabase.open(undefined);
  }, 60_000);

  afterAll(() => db?.close());

  describeEventStoreContract('PostgresEventStore on PGlite', async () => {
    const store = new PostgresEventStore({ db, schema: uniqueSchema('contract') });
    await store.migrate();
    return { store, teardown: () => store.close() };
  });

  describePostgresEventStoreCases('PostgresEventStore on PGlite', () => db, uniqueSchema('specifics'), {
    separateConnections: false,
  });
}
