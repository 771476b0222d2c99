import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { applicationStream, programmeStream } from '@kcflow/domain';
import { GlobalPosition, InMemoryEventStore, ReadAllOptions, RecordedEvent, formatPosition } from '@kcflow/event-store';
import type { SqlDatabase } from '@kcflow/sql';
import type { EventBatch, EventBatchProducer } from './event-batch';
import type { MessagingLogger } from './kafka-config';
import { OutboundRelay } from './outbound-relay';
import { applicationLife, newEvent, waitFor } from './testing/kafka-testing';

/** Counts the reads the relay's subscription makes. */
class CountingStore extends InMemoryEventStore {
  readonly reads: ReadAllOptions[] = [];

  override async readAll(options: ReadAllOptions): Promise<RecordedEvent[]> {
    this.reads.push(options);
    return super.readAll(options);
  }
}

/** The relay's checkpoint table, in memory: every saved position, in order; `beforeSave` may hold or fail a write. */
function checkpointTable() {
  const saved: string[] = [];
  const table = {
    saved,
    beforeSave: (async () => undefined) as (position: string) => Promise<void>,
    db: {
      dialect: 'postgres',
      query: async (sql: string, params: unknown[] = []) => {
        if (sql.startsWith('SELECT position')) return saved.length > 0 ? [{ position: saved[saved.length - 1] }] : [];
        if (sql.startsWith('INSERT INTO')) {
          await table.beforeSave(params[1] as string);
          saved.push(params[1] as string);
        }
        return [];
      },
    } as unknown as SqlDatabase,
  };
  return table;
}

type Send = (batch: EventBatch) => Promise<void>;

/** A Kafka (its admin only) and a producer that hands every send to `send`; a test swaps it to hold or fail sends. */
function fakeBroker(topic: string) {
  const attempts: string[][] = []; // event ids of every send attempt
  const delivered: string[][] = []; // event ids of the sends that succeeded
  const broker = {
    attempts,
    delivered,
    send: (async () => undefined) as Send,
  };
  const producer: EventBatchProducer = {
    close: async () => undefined,
    send: async (batch) => {
      attempts.push(batch.ids);
      await broker.send(batch);
      delivered.push(batch.ids);
    },
  };
  const admin = () => ({
    connect: async () => undefined,
    disconnect: async () => undefined,
    listTopics: async () => [topic],
    createTopics: async () => true,
  });
  return { broker, outbound: { kafka: { admin } as unknown as Kafka, producer } };
}

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

const TOPIC = 'kcflow.applications.v1.unit';
const BATCH = 10;

/** 30 application events in 3 batches of 10, streams interleaved. */
async function storeWithThreeBatches(): Promise<{ store: CountingStore; ids: string[]; positions: GlobalPosition[] }> {
  const store = new CountingStore();
  const applications = Array.from({ length: 10 }, () => randomUUID());
  for (let revision = 0; revision < 3; revision++) {
    for (const id of applications) {
      await store.append(applicationStream(id), [newEvent(applicationLife(id, 3)[revision])], revision === 0 ? 'no_stream' : revision - 1);
    }
  }
  const all = await store.readAll({ limit: 100 });
  store.reads.length = 0;
  return { store, ids: all.map((e) => e.id), positions: all.map((e) => e.position) };
}

function relayFor(store: CountingStore, { kafka, producer }: { kafka: Kafka; producer: EventBatchProducer }, db: SqlDatabase, logger?: MessagingLogger) {
  return new OutboundRelay({ store, db, schema: 'relay_unit', kafka, producer, topic: TOPIC, batchSize: BATCH, retryDelays: { initialMs: 5, maxMs: 20 }, logger });
}

/** Keeps the messages of the errors logged. */
function errorLog() {
  const errors: string[] = [];
  const logger: MessagingLogger = { info: () => undefined, warn: () => undefined, error: (context) => errors.push(String((context as { err?: Error }).err?.message)) };
  return { errors, logger };
}

const batchEnd = (positions: GlobalPosition[], batch: number) => formatPosition(positions[(batch + 1) * BATCH - 1]);

describe('OutboundRelay read-ahead', () => {
  it('reads two batches ahead while one is sent, no further, and sends in store order', async () => {
    const { store, ids, positions } = await storeWithThreeBatches();
    const { saved, db } = checkpointTable();
    const { broker, outbound } = fakeBroker(TOPIC);
    const first = gate();
    broker.send = () => first.opened;
    const relay = relayFor(store, outbound, db);
    await relay.start();

    await waitFor('the third batch to be read', () => store.reads.length >= 3, 5000, 1);
    await new Promise((r) => setTimeout(r, 50)); // room for a wrong fourth read or second send
    expect(store.reads).toHaveLength(3);
    expect(broker.attempts).toHaveLength(1);
    expect(saved).toEqual([]);

    broker.send = async () => undefined;
    first.open();
    await waitFor('every batch to be checkpointed', () => saved.length === 3, 5000, 1);
    expect(broker.delivered.flat()).toEqual(ids);
    expect(saved).toEqual([0, 1, 2].map((batch) => batchEnd(positions, batch)));
    expect(relay.status()).toMatchObject({ eventsPublished: 30, lastError: null });
    await relay.stop();
  });

  it('keeps the checkpoint before a failing batch while the next one waits prefetched, then sends both in order', async () => {
    const { store, ids, positions } = await storeWithThreeBatches();
    const { saved, db } = checkpointTable();
    const { broker, outbound } = fakeBroker(TOPIC);
    broker.send = async () => {
      throw new Error('broker down');
    };
    const relay = relayFor(store, outbound, db);
    await relay.start();

    await waitFor('three failed attempts with the next batch read', () => broker.attempts.length >= 3 && store.reads.length >= 2, 5000, 1);
    expect(new Set(broker.attempts.map((attempt) => attempt[0]))).toEqual(new Set([ids[0]])); // only the first batch, again and again
    expect(saved).toEqual([]);
    expect(relay.status()).toMatchObject({ eventsPublished: 0, lastError: 'broker down' });

    broker.send = async () => undefined;
    await waitFor('every batch to be checkpointed', () => saved.length === 3, 5000, 1);
    expect(broker.delivered.flat()).toEqual(ids);
    expect(saved).toEqual([0, 1, 2].map((batch) => batchEnd(positions, batch)));
    expect(relay.status()).toMatchObject({ eventsPublished: 30, lastError: null });
    await relay.stop();
  });

  it('abandons a failing batch and the prefetched one on stop(): the checkpoint stays, and the next relay sends both again', async () => {
    const { store, ids, positions } = await storeWithThreeBatches();
    const { saved, db } = checkpointTable();
    const { broker, outbound } = fakeBroker(TOPIC);
    let failSecond = true;
    broker.send = async (batch) => {
      if (failSecond && batch.ids[0] === ids[BATCH]) throw new Error('broker down');
    };
    const relay = relayFor(store, outbound, db);
    await relay.start();
    await waitFor('the second batch to fail with the third read', () => broker.attempts.length >= 3 && store.reads.length >= 3, 5000, 1);
    await relay.stop();
    expect(saved).toEqual([batchEnd(positions, 0)]);
    expect(broker.delivered.flat()).toEqual(ids.slice(0, BATCH));

    failSecond = false;
    const again = relayFor(store, outbound, db);
    await again.start();
    await waitFor('every batch to be checkpointed', () => saved.length === 3, 5000, 1);
    expect(broker.delivered.flat()).toEqual(ids);
    expect(saved).toEqual([0, 1, 2].map((batch) => batchEnd(positions, batch)));
    await again.stop();
  });

  it('checkpoints the batch in flight before restarting on an event it cannot map in the batch read ahead', async () => {
    const { store, ids, positions } = await storeWithThreeBatches();
    const unknown = randomUUID();
    await store.append(applicationStream(unknown), [newEvent({ type: 'ApplicationTeleported', data: {} })], 'no_stream');
    const { saved, db } = checkpointTable();
    const { broker, outbound } = fakeBroker(TOPIC);
    const third = gate();
    broker.send = (batch) => (batch.ids[0] === ids[2 * BATCH] ? third.opened : Promise.resolve());
    const { errors, logger } = errorLog();
    const relay = relayFor(store, outbound, db, logger);
    await relay.start();
    // The third batch is in flight when the fourth, read ahead, fails to map.
    await waitFor('the relay to stop on the unmappable event', () => errors.length > 0, 5000, 1);
    expect(errors[0]).toMatch(/ApplicationTeleported/);
    await waitFor('the batches before the one in flight to be checkpointed', () => saved.length === 2, 5000, 1);
    await new Promise((r) => setTimeout(r, 50)); // room for a wrong third checkpoint
    expect(saved).toEqual([batchEnd(positions, 0), batchEnd(positions, 1)]);
    third.open();
    await waitFor('the batch in flight to be checkpointed', () => saved.length === 3, 5000, 1);
    expect(broker.delivered.flat()).toEqual(ids);
    expect(saved).toEqual([0, 1, 2].map((batch) => batchEnd(positions, batch)));
    await relay.stop();
    expect(broker.delivered.flat()).toEqual(ids); // the restarts re-read from the checkpoint: nothing sent twice
  });

  it('writes a checkpoint while the next batch is sent, one checkpoint behind at most, never skipping or passing one', async () => {
    const { store, ids, positions } = await storeWithThreeBatches();
    const table = checkpointTable();
    const { broker, outbound } = fakeBroker(TOPIC);
    const firstCheckpoint = gate();
    let failures = 0;
    table.beforeSave = async (position) => {
      if (position === batchEnd(positions, 0)) await firstCheckpoint.opened;
      if (position === batchEnd(positions, 1) && failures++ < 2) throw new Error('database down');
    };
    const relay = relayFor(store, outbound, table.db);
    await relay.start();

    // The first checkpoint is held: the second batch goes out, the third waits for that checkpoint.
    await waitFor('the second batch to be sent', () => broker.delivered.length === 2, 5000, 1);
    await new Promise((r) => setTimeout(r, 50)); // room for a wrong third send
    expect(broker.attempts).toHaveLength(2);
    expect(table.saved).toEqual([]);

    // The second checkpoint fails twice and is retried; the ones after it wait.
    firstCheckpoint.open();
    await waitFor('every batch to be checkpointed', () => table.saved.length === 3, 5000, 1);
    expect(failures).toBe(3);
    expect(broker.delivered.flat()).toEqual(ids);
    expect(table.saved).toEqual([0, 1, 2].map((batch) => batchEnd(positions, batch)));
    await waitFor('the error to clear', () => relay.status().lastError === null, 5000, 1);
    await relay.stop();
  });
});

describe('OutboundRelay and the events it does not publish', () => {
  it('is not handed programme events, yet moves its checkpoint past them, also for a batch of nothing else', async () => {
    const { store, ids } = await storeWithThreeBatches();
    for (let i = 0; i < 2 * BATCH + 5; i++) {
      await store.append(programmeStream('p1'), [newEvent({ type: 'BudgetCommitted', data: {} })], 'any');
    }
    const head = await store.headPosition();
    const { saved, db } = checkpointTable();
    const { broker, outbound } = fakeBroker(TOPIC);
    const relay = relayFor(store, outbound, db);
    await relay.start();

    await waitFor('the checkpoint to pass the programme events', () => saved.at(-1) === formatPosition(head!), 5000, 1);
    expect(broker.delivered.flat()).toEqual(ids);
    expect(broker.attempts.every((sent) => sent.length > 0)).toBe(true);
    expect(store.reads.filter((read) => read.streamPrefix !== 'application-')).toEqual([]);
    expect(await relay.lag()).toMatchObject({ eventsBehind: 0, eventsBehindCapped: false });
    await relay.stop();
  });
});
