import { SqlSnapshotStore } from '../../libs/runtime/src/sql-snapshot-store';
import { PgDatabase, quoteSchema } from '@kcflow/sql';
import { InMemorySnapshotStore } from '@kcflow/workflow';
import { describeSnapshotStoreContract } from '../../libs/workflow/src/testing/snapshot-store.contract';
import { POSTGRES_URL, describeWithPglite, describeWithPostgres, uniqueSchema } from '../support/services';

describeSnapshotStoreContract('InMemorySnapshotStore', async () => ({ store: new InMemorySnapshotStore() }));

describeWithPostgres('SqlSnapshotStore on a PostgreSQL server', () => {
  const schema = uniqueSchema('snapshots');
  let db: PgDatabase;

  beforeAll(() => {
    db = new PgDatabase(POSTGRES_URL);
  });

  afterAll(async () => {
    await db.query(`DROP SCHEMA IF EXISTS ${quoteSchema(schema)} CASCADE`);
    await db.close();
  });

  describeSnapshotStoreContract('SqlSnapshotStore on pg', async () => {
    const store = new SqlSnapshotStore(db, schema);
    await store.migrate();
    await store.migrate(); // safe to run at every start
    return { store };
  });
});

describeWithPglite('SqlSnapshotStore on PGlite', (db) => {
  describeSnapshotStoreContract('SqlSnapshotStore on PGlite', async () => {
    const store = new SqlSnapshotStore(db(), uniqueSchema('snapshots'));
    await store.migrate();
    return { store };
  });
});
