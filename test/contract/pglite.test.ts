import { randomUUID } from 'node:crypto';
import { NewEvent, PostgresEventStore } from '@kcflow/event-store';
import { quoteSchema } from '@kcflow/sql';
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

  it('keeps planner statistics (PGlite has no autovacuum), so that readAll far behind the head walks the commit-order index', async () => {
    const schema = uniqueSchema('statistics');
    const store = new PostgresEventStore({ db: db(), schema });
    await store.migrate();
    for (let stream = 0; stream < 40; stream++) await store.append(`application-${stream}`, Array.from({ length: 50 }, newEvent), 'no_stream');
    const behind = (await store.readAll({ limit: 100 }))[99].position;
    await store.close(); // waits for an analysis under way

    // readAll's statement, 1,900 events behind the head.
    const plan = await db().query<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT * FROM ${quoteSchema(schema)}.events
       WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
         AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
         AND starts_with(stream_id, $4)
       ORDER BY transaction_id, global_position
       LIMIT $3`,
      [behind.commit.toString(), behind.prepare.toString(), 500, ''],
    );
    expect(plan.map((row) => row['QUERY PLAN']).join('\n')).toMatch(/Index Scan using events_commit_order/);
    await db().query(`DROP SCHEMA ${quoteSchema(schema)} CASCADE`);
  });
});

function newEvent(): NewEvent {
  return {
    id: randomUUID(),
    type: 'TestEventHappened',
    data: { note: 'x'.repeat(200) },
    metadata: { actorId: 'officer-7', role: 'reviewer', correlationId: randomUUID(), causationId: randomUUID(), occurredAt: new Date().toISOString(), schemaVersion: 1 },
  };
}
