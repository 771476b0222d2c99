import { SqlSnapshotStore } from '../../libs/runtime/src/sql-snapshot-store';
import { InMemorySnapshotStore } from '@kcflow/workflow';
import { describeSnapshotStoreContract } from '../../libs/workflow/src/testing/snapshot-store.contract';
import { describeWithPglite, describeWithPostgresSchema, uniqueSchema } from '../support/services';

describeSnapshotStoreContract('InMemorySnapshotStore', async () => ({ store: new InMemorySnapshotStore() }));

describeWithPostgresSchema('SqlSnapshotStore on a PostgreSQL server', 'snapshots', (db, schema) => {
  describeSnapshotStoreContract('SqlSnapshotStore on pg', async () => {
    const store = new SqlSnapshotStore(db(), schema);
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
