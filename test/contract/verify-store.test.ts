import { EventStore, InMemoryEventStore, PostgresEventStore } from '@kcflow/event-store';
import { randomUUID } from 'node:crypto';
import { PgDatabase } from '@kcflow/sql';
import { CommandLoop, hashEvent, verifyStore } from '@kcflow/workflow';
import { POSTGRES_URL, describeWithPostgresSchema } from '../support/services';

const counter = { initialState: () => 0, evolve: (n: number) => n + 1 };
const context = { actorId: 'a', role: 'admin', correlationId: 'c', causationId: 'c' };

async function storeWithStreams(streams: number, eventsEach: number, store: EventStore = new InMemoryEventStore()) {
  const loop = new CommandLoop(store, { now: () => new Date('2024-01-01T00:00:00Z') });
  for (let e = 0; e < eventsEach; e++) {
    for (let s = 0; s < streams; s++) await loop.execute(counter, `stream-${s}`, context, () => [{ type: 'Counted', data: { e } }]);
  }
  return store;
}

describe('verifyStore (npm run audit:verify)', () => {
  it('checks every stream, across pages that interleave streams', async () => {
    const store = await storeWithStreams(3, 4);
    expect(await verifyStore(store, 5)).toEqual({ valid: true, streams: 3, events: 12, broken: [], snapshotsChecked: 0, falseSnapshots: [] });
  });

  it('names each stream whose chain breaks, at the first broken revision', async () => {
    const store = await storeWithStreams(2, 2);
    // An event whose stored hash does not match its content: what an edited row looks like.
    const [last] = await store.readStream('stream-1', { toRevision: 1 }).then((events) => events.slice(-1));
    const forged = { id: randomUUID(), type: 'Counted', data: { e: 2 }, metadata: { ...context, occurredAt: '2024-01-01T00:00:00Z', schemaVersion: 1, prevHash: last.metadata.hash } };
    await store.append('stream-1', [{ ...forged, metadata: { ...forged.metadata, hash: hashEvent({ ...forged, data: { e: 3 } }) } }], 1);
    expect(await verifyStore(store, 2)).toEqual({
      valid: false,
      streams: 2,
      events: 5,
      broken: [{ streamId: 'stream-1', valid: false, events: 3, firstBrokenRevision: 2 }],
      snapshotsChecked: 0,
      falseSnapshots: [],
    });
  });

  it('an empty store is intact', async () => {
    expect(await verifyStore(new InMemoryEventStore())).toEqual({ valid: true, streams: 0, events: 0, broken: [], snapshotsChecked: 0, falseSnapshots: [] });
  });
});

describeWithPostgresSchema('verifyStore on a PostgreSQL event store', 'verify_store', (db, schema) => {
  it('waits for events committed while an older transaction elsewhere still holds readAll back, and checks them', async () => {
    const store = new PostgresEventStore({ db: db(), schema });
    await store.migrate();
    const elsewhere = new PgDatabase(POSTGRES_URL);
    let verdict: Promise<unknown> | undefined;
    let settled = false;
    try {
      await elsewhere.transaction(async (tx) => {
        await tx.query('SELECT pg_current_xact_id()'); // an open transaction with an id: the server-wide xmin
        await storeWithStreams(2, 3, store);

        verdict = verifyStore(store, 4).finally(() => (settled = true));
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(settled).toBe(false);
      });

      expect(await verdict).toEqual({ valid: true, streams: 2, events: 6, broken: [], snapshotsChecked: 0, falseSnapshots: [] });
    } finally {
      await verdict?.catch(() => undefined);
      await store.close();
      await elsewhere.close();
    }
  });
});
