import { PostgresEventStore } from '@kcflow/event-store';
import { PgliteDatabase } from '@kcflow/sql';
import { describeEventStoreContract } from '../../libs/event-store/src/testing/event-store.contract';
import { uniqueSchema } from '../support/services';
import { describePostgresEventStoreCases } from './postgres-event-store.cases';

// Starting PGlite takes seconds, so the whole file shares one in-memory instance; each
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

describePostgresEventStoreCases('PostgresEventStore on PGlite', () => db, uniqueSchema('specifics'), { separateConnections: false });
