import { PostgresEventStore } from '@kcflow/event-store';
import { PgDatabase, quoteSchema } from '@kcflow/sql';
import { describeEventStoreContract } from '../../libs/event-store/src/testing/event-store.contract';
import { POSTGRES_URL, describeWithPostgres, uniqueSchema } from '../support/services';
import { describePostgresEventStoreCases } from './postgres-event-store.cases';

describeWithPostgres('PostgresEventStore on a PostgreSQL server', () => {
  // One schema for this run, dropped at the end, so runs never see each other's events.
  const schema = uniqueSchema('event_store');
  let db: PgDatabase;

  beforeAll(() => {
    db = new PgDatabase(POSTGRES_URL);
  });

  afterAll(async () => {
    await db.query(`DROP SCHEMA IF EXISTS ${quoteSchema(schema)} CASCADE`);
    await db.close();
  });

  describeEventStoreContract('PostgresEventStore on pg', async () => {
    const store = new PostgresEventStore({ db, schema });
    await store.migrate();
    return { store, teardown: () => store.close() };
  });

  describePostgresEventStoreCases('PostgresEventStore on pg', () => db, schema, { separateConnections: true });
});
