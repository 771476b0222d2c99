import { randomUUID } from 'node:crypto';
import { NewEvent, PostgresEventStore, RecordedEvent, comparePositions } from '@kcflow/event-store';
import { SqlDatabase, quoteSchema } from '@kcflow/sql';

/**
 * What the contract cannot ask of every store but the PostgreSQL store promises: event ids
 * unique across the store, and a migration that can run again. With `separateConnections`
 * (a real server; PGlite has one connection) also the high-water mark of readAll.
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
      const stream = `application-${randomUUID()}`;

      await expect(store.append(stream, [newEvent(), event], 'no_stream')).rejects.toThrow(/duplicate key/);
      const twice = newEvent();
      const sameIdTwice = [twice, { ...newEvent(), id: twice.id }];
      await expect(store.append(stream, sameIdTwice, 'no_stream')).rejects.toThrow(/duplicate key/);
      expect(await store.readStream(stream)).toEqual([]);
    });

    it('returns recorded_at as the Date the driver would, to the millisecond', async () => {
      const stream = `application-${randomUUID()}`;
      const { position } = await store.append(stream, [newEvent()], 'no_stream');
      await database().query(`UPDATE ${quoteSchema(schema)}.events SET recorded_at = '2024-02-29 23:59:59.123999+00' WHERE global_position = $1`, [position.prepare.toString()]);

      const [event] = await store.readStream(stream);
      expect(event.recordedAt).toEqual(new Date('2024-02-29T23:59:59.123Z'));
      expect((await store.readAll({ after: { commit: position.commit, prepare: position.prepare - 1n }, limit: 1 }))[0].recordedAt).toEqual(event.recordedAt);
    });

    const itWithConnections = separateConnections ? it : it.skip;

    itWithConnections('counts an event held back that way in lastCommittedPosition, not in headPosition', async () => {
      const gate = gatedDatabase(database());
      const slowAppend = new PostgresEventStore({ db: gate.db, schema }).append(`application-${randomUUID()}`, [newEvent()], 'no_stream');
      try {
        await gate.reached;
        const { position } = await store.append(`application-${randomUUID()}`, [newEvent()], 'no_stream');

        expect(await store.lastCommittedPosition()).toEqual(position);
        const head = await store.headPosition();
        expect(head === undefined || comparePositions(head, position) < 0).toBe(true);
      } finally {
        gate.open();
      }
      await slowAppend;
    });

    itWithConnections('holds back an event committed while an earlier transaction is still open', async () => {
      const tag = randomUUID();
      const seen: RecordedEvent[] = [];
      const errors: unknown[] = [];
      const subscription = store.subscribeToAll({
        after: await store.headPosition(),
        handler: async (events) => void seen.push(...events.filter((event) => event.streamId.startsWith(tag))),
        onError: (error) => errors.push(error),
      });
      const gate = gatedDatabase(database());
      const earlier = newEvent();
      const later = newEvent();

      // The slow append takes the lower sequence number, then waits before committing while
      // the fast one commits with a higher number.
      const slowAppend = new PostgresEventStore({ db: gate.db, schema }).append(`${tag}-slow`, [earlier], 'no_stream');
      try {
        await gate.reached;
        await store.append(`${tag}-fast`, [later], 'no_stream');
        await pause(300);
        expect(seen).toEqual([]);
      } finally {
        gate.open();
      }
      await slowAppend;
      for (const deadline = Date.now() + 10_000; seen.length < 2 && Date.now() < deadline; ) await pause(20);
      await subscription.stop();

      expect(seen.map((event) => event.id)).toEqual([earlier.id, later.id]);
      expect(seen[0].position.prepare).toBeLessThan(seen[1].position.prepare);
      expect(errors).toEqual([]);
    });
  });
}

/**
 * A database whose statements and transactions, once their work is done, wait for `open()` to
 * commit: a single statement (the append is one) runs in a transaction of its own here, so its
 * commit can be held back like that of a slow writer.
 */
function gatedDatabase(db: SqlDatabase) {
  let reach!: () => void;
  let open!: () => void;
  const reached = new Promise<void>((resolve) => (reach = resolve));
  const opened = new Promise<void>((resolve) => (open = resolve));
  const transaction: SqlDatabase['transaction'] = (work) =>
    db.transaction(async (tx) => {
      const result = await work(tx);
      reach();
      await opened;
      return result;
    });
  const gated: SqlDatabase = {
    dialect: db.dialect,
    query: (sql, params) => transaction((tx) => tx.query(sql, params)),
    transaction,
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

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
