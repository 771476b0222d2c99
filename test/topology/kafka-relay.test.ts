import { randomUUID } from 'node:crypto';
import { applicationStream } from '@kcflow/domain';
import { PostgresEventStore, formatPosition } from '@kcflow/event-store';
import { PgDatabase, quoteSchema } from '@kcflow/sql';
import { applicationLife, newEvent } from '../../libs/messaging/src/testing/kafka-testing';
import { KAFKA_BROKERS, POSTGRES_URL, describeWithKafka, describeWithPostgres, uniqueSchema } from '../support/services';
import { NodeProcess, dropSchemas, ensureBuilt, startWorker, waitFor } from './processes';

jest.setTimeout(120_000);

/**
 * The built worker's relay, its producer on a thread of its own, when node runs it with V8
 * options (`node --max-old-space-size=160`, as the memory benchmark does): a thread started
 * with the process's options passed on explicitly is refused them and never starts.
 */
describeWithPostgres('Kafka relay in the built worker (real process)', () => {
  describeWithKafka('with a real broker', () => {
    const schema = uniqueSchema('relayproc');
    let worker: NodeProcess | undefined;
    let db: PgDatabase;

    beforeAll(() => {
      ensureBuilt();
      db = new PgDatabase(POSTGRES_URL);
    });

    afterAll(async () => {
      await worker?.kill('SIGTERM');
      await db?.close();
      await dropSchemas(`${schema}_es`, `${schema}_rm`);
    });

    it('publishes every application event under --max-old-space-size: the checkpoint reaches the head', async () => {
      worker = await startWorker(schema, { KAFKA_BROKERS, KAFKA_CLIENT_ID: `kcflow-${schema}` }, ['--max-old-space-size=160']);
      const store = new PostgresEventStore({ db, schema: `${schema}_es` });
      let last = '';
      for (const id of [randomUUID(), randomUUID(), randomUUID()]) {
        const life = applicationLife(id, 5);
        // The last append's own position: headPosition() may not show it yet while the worker's
        // projections hold older transactions open (readAll's high-water mark).
        last = formatPosition((await store.append(applicationStream(id), life.map((event) => newEvent(event)), 'no_stream')).position);
      }
      let checkpoint: string | undefined;
      const relayed = async () => {
        const rows = await db.query<{ position: string }>(`SELECT position FROM ${quoteSchema(`${schema}_rm`)}.relay_checkpoints`);
        checkpoint = rows[0]?.position;
        return checkpoint === last;
      };
      await waitFor(
        () => relayed().catch(() => false), // the worker creates the table as its relay starts
        60_000,
        () => `the relay did not reach ${last} (its checkpoint: ${checkpoint ?? 'none'}): ${worker?.stdout().slice(-3000)}`,
        worker.exited,
      );
      await store.close();
    });
  });
});
