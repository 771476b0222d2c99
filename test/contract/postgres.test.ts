import { PostgresEventStore } from '@kcflow/event-store';
import { PgDatabase } from '@kcflow/sql';
import { describeEventStoreContract } from '../../libs/event-store/src/testing/event-store.contract';
import { describeWithPostgresSchema } from '../support/services';
import { describePostgresEventStoreCases } from './postgres-event-store.cases';

// One schema for this run, dropped at the end, so runs never see each other's events.
describeWithPostgresSchema('PostgresEventStore on a PostgreSQL server', 'event_store', (database, schema) => {
  describeEventStoreContract('PostgresEventStore on pg', async () => {
    const store = new PostgresEventStore({ db: database(), schema });
    await store.migrate();
    return { store, teardown: () => store.close() };
  });

  describePostgresEventStoreCases('PostgresEventStore on pg', database, schema, { separateConnections: true });

  describe('statements marked for reuse', () => {
    const prepared = (tx: { query: PgDatabase['query'] }) =>
      tx.query<{ name: string; statement: string }>('SELECT name, statement FROM pg_prepared_statements');

    it('run as one named prepared statement per text on each connection, with the same answers', async () => {
      const sql = 'SELECT $1::int + 1 AS answer /* reuse probe */';
      await database().transaction(async (tx) => {
        expect(await tx.query(sql, [41], { reuse: true })).toEqual([{ answer: 42 }]);
        expect(await tx.query(sql, [1], { reuse: true })).toEqual([{ answer: 2 }]);
        const named = (await prepared(tx)).filter((p) => p.statement === sql);
        expect(named).toHaveLength(1);
        expect(named[0].name).toMatch(/^kcflow_[0-9a-f]{32}$/);
      });
    });

    it('others are not kept', async () => {
      const sql = 'SELECT $1::int AS once /* not for reuse */';
      await database().transaction(async (tx) => {
        await tx.query(sql, [1]);
        expect((await prepared(tx)).filter((p) => p.statement === sql)).toEqual([]);
      });
    });
  });
});
