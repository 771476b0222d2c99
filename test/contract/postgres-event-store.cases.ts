import { randomUUID } from 'node:crypto';
import { NewEvent, PostgresEventStore, RecordedEvent } from '@kcflow/event-store';
import { SqlDatabase } from '@kcflow/sql';

/**
 * What the contract cannot say for every store but the PostgreSQL store promises: event
 * ids are unique across the store, and migrating is idempotent. With `separateConnections`
 * (a real server, not PGlite's single connection) also the commit-order high-water mark.
 */
export function describePostgresEventStoreCases(
  name: string,
  database: () => SqlDatabase,
  schema: string,
  { separateConnections }: { separateConnections: boolean },
): void {
  describe(`${name}: PostgreSQL specifics`, () => {
    let store: PostgresEventStore;

    beforeAll(async () => {
      store = new PostgresEventStore({ db: database(), schema });
      await store.migrate();
    });

    afterAll(() => store.close());

    it('migrates again without losing events', async () => {
      const stream = `application-${randomUUID()}`;
      await store.append(stream, [newEvent()], 'no_stream');
      await store.migrate();

      expect(await store.readStream(stream)).toHaveLength(1);
    });

    it('refuses an event id already in the store, and appends nothing', async () => {
      const event = newEvent();
      await store.append(`application-${randomUUID()}`, [event], 'no_stream');
      const other = `application-${randomUUID()}`;

      await expect(store.append(other, [newEvent(), event], 'no_stream')).rejects.toThrow(/duplicate key/);
      await expect(store.append(other, [event.id, event.id].map((id) => ({ ...newEvent(), id })), 'no_stream')).rejects.toThrow();
      expect(await store.readStream(other)).toEqual([]);
      expect((await store.append(other, [newEvent()], 'no_stream')).revision).toBe(0);
    });

    (separateConnections ? it : it.skip)(
      'holds back an event committed after an earlier transaction that is still open',
      async () => {
        // The slow append takes the lower sequence number, then waits before committing.
        const gate = gatedDatabase(database());
        const slowStore = new PostgresEventStore({ db: gate.db, schema });
        const tag = randomUUID();
        const start = await store.headPosition();
        const seen: RecordedEvent[] = [];
        const subscription = store.subscribeToAll({
          after: start,
          handler: async (events) => void seen.push(...events.filter((event) => event.streamId.startsWith(tag))),
          onError: (error) => seen.push(error as RecordedEvent),
        });
        const earlier = newEvent();
        const later = newEvent();

        const slowAppend = slowStore.append(`${tag}-slow`, [earlier], 'no_stream');
        await gate.reached;
        await store.append(`${tag}-fast`, [later], 'no_stream');
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(seen).toEqual([]);

        gate.open();
        const earlierPosition = (await slowAppend).position;
        const deadline = Date.now() + 10_000;
        while (seen.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        await subscription.stop();

        expect(seen.map((event) => event.id)).toEqual([earlier.id, later.id]);
        expect(earlierPosition.prepare).toBeLessThan(seen[1].position.prepare);
      },
      15_000,
    );
  });
}

/** A database whose transactions, once their work is done, wait for `open()` to commit. */
function gatedDatabase(db: SqlDatabase) {
  let reach!: () => void;
  let open!: () => void;
  const reached = new Promise<void>((resolve) => (reach = resolve));
  const opened = new Promise<void>((resolve) => (open = resolve));
  const gated: SqlDatabase = {
    dialect: db.dialect,
    query: (sql, params) => db.query(sql, params),
    transaction: (work) =>
      db.transaction(async (tx) => {
        const result = await work(tx);
        reach();
        await opened;
        return result;
      }),
    close: () => db.close(),
  };
  return { db: gated, reached, open };
}

function newEvent(): NewEvent {
  return {
    id: randomUUID(),
    type: 'TestEventHappened',
    data: {},
    metadata: {
      actorId: 'officer-7',
      role: 'reviewer',
      correlationId: randomUUID(),
      causationId: randomUUID(),
      occurredAt: new Date().toISOString(),
      schemaVersion: 1,
    },
  };
}
