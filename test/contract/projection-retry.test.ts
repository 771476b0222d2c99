import { InMemoryEventStore } from '@kcflow/event-store';
import { Projection, ProjectionRunner, migrateStreamRevisions } from '@kcflow/read-models';
import { PgliteDatabase, quoteSchema } from '@kcflow/sql';
import { History } from '../support/read-model-history';
import { uniqueSchema } from '../support/services';

/** A projection that fails stays visible on status() and tries again by itself. */
describe('ProjectionRunner after a failure', () => {
  let db: PgliteDatabase;
  beforeAll(async () => {
    db = await PgliteDatabase.open(undefined);
  }, 60_000);
  afterAll(() => db?.close());

  it('retries from its checkpoint with a growing delay, and clears the error once a batch succeeds', async () => {
    const schema = uniqueSchema('retry');
    let failuresLeft = 2;
    const counted: Projection = {
      name: 'counted',
      tables: ['counted'],
      async createTables(tx, s) {
        await tx.query(`CREATE TABLE IF NOT EXISTS ${quoteSchema(s)}.counted (event_id text PRIMARY KEY)`);
        await migrateStreamRevisions(tx, s, 'counted');
      },
      applies: () => true,
      fold() {
        const ids: string[] = [];
        return {
          rows: 0,
          add(event) {
            ids.push(event.id);
          },
          async write(tx, s) {
            // A database that is briefly away: the first two attempts fail.
            if (failuresLeft > 0) {
              failuresLeft -= 1;
              throw new Error('connection terminated unexpectedly');
            }
            for (const id of ids) await tx.query(`INSERT INTO ${quoteSchema(s)}.counted (event_id) VALUES ($1) ON CONFLICT DO NOTHING`, [id]);
          },
        };
      },
    };
    const store = new InMemoryEventStore();
    const history = new History(store);
    await history.openProgramme('P-RETRY', { consulting: 1_000_000 });
    const runner = new ProjectionRunner({ store, db, schema, projections: [counted], retryDelayMs: 50 });
    await runner.start();

    const deadline = Date.now() + 10_000;
    let status = await runner.status();
    let sawError = false;
    while (Date.now() < deadline && !(status[0].lastError === null && status[0].eventsApplied > 0)) {
      sawError ||= status[0].lastError === 'connection terminated unexpectedly';
      await new Promise((r) => setTimeout(r, 20));
      status = await runner.status();
    }
    await runner.stop();
    expect(sawError).toBe(true);
    expect(failuresLeft).toBe(0);
    expect(status[0]).toMatchObject({ lastError: null, lastErrorEventId: null });
    const rows = await db.query(`SELECT count(*)::int AS n FROM ${quoteSchema(schema)}.counted`);
    expect(rows[0]).toEqual({ n: (await store.readAll({ limit: 100 })).length });
  }, 20_000);
});
