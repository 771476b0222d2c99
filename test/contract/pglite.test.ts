import { PostgresEventStore } from '@kcflow/event-store';
import { describeEventStoreContract } from '../../libs/event-store/src/testing/event-store.contract';
import { describeWithPglite, uniqueSchema } from '../support/services';
import { describePostgresEventStoreCases } from './postgres-event-store.cases';

describeWithPglite('PostgresEventStore on PGlite', (db) => {
  describeEventStoreContract('PostgresEventStore on PGlite', async () => {
    const store = new PostgresEventStore({ db: db(), schema: uniqueSchema('contract') });
    await store.migrate();
    return { store, teardown: () => store.close() };
  });

  describePostgresEventStoreCases('PostgresEventStore on PGlite', db, uniqueSchema('specifics'), {
    separateConnections: false,
  });
});
