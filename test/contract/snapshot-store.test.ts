import { SourceTextModule } from 'node:vm';
import { SqlSnapshotStore } from '../../libs/runtime/src/sql-snapshot-store';
import { PgDatabase, PgliteDatabase, quoteSchema } from '@kcflow/sql';
import { InMemorySnapshotStore } from '@kcflow/workflow';
import { describeSnapshotStoreContract } from '../../libs/workflow/src/testing/snapshot-store.contract';
import { POSTGRES_URL, describeWithPostgres, uniqueSchema } from '../support/services';

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

// PGlite needs NODE_OPTIONS=--experimental-vm-modules (see pglite.test.ts).
if (typeof SourceTextModule !== 'function') {
  describe('SqlSnapshotStore on PGlite', () => {
    it('needs NODE_OPTIONS=--experimental-vm-modules', () => {
      throw new Error('Run Jest with NODE_OPTIONS=--experimental-vm-modules: PGlite cannot start without it');
    });
  });
} else {
  let db: PgliteDatabase;

  beforeAll(async () => {
    db = await PgliteDatabase.open(undefined);
  }, 60_000);

  afterAll(() => db?.close());

  describeSnapshotStoreContract('SqlSnapshotStore on PGlite', async () => {
    const store = new SqlSnapshotStore(db, uniqueSchema('snapshots'));
    await store.migrate();
    return { store };
  });
}
