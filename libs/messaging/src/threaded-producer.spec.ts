import { EventBatch } from './event-batch';
import { ThreadedProducer } from './threaded-producer';

const DYING_THREAD = require.resolve('./testing/dying-producer-thread');
const batch: EventBatch = { topic: 'kcflow.unit', keys: ['a'], values: ['{}'], ids: ['e1'], types: ['kcflow.application.closed.v1'] };

// No broker here: these are the cases that fail before kafkajs would connect.
describe('ThreadedProducer', () => {
  it('fails the send in flight when its thread dies, with the exit code, and closes cleanly afterwards', async () => {
    const producer = new ThreadedProducer({ brokers: ['127.0.0.1:1'], clientId: 'unit' }, { entry: DYING_THREAD });
    await expect(producer.send(batch)).rejects.toThrow('The Kafka producer thread exited (code 70)');
    await producer.close();
  }, 30_000);

  it('rejects a send, rather than throwing, when the configuration cannot cross to the thread', async () => {
    const producer = new ThreadedProducer({ brokers: ['127.0.0.1:1'], clientId: 'unit', ssl: { checkServerIdentity: () => undefined } });
    await expect(producer.send(batch)).rejects.toThrow(/could not be cloned/);
    await producer.close();
  });

  it('closes without a thread to close', async () => {
    await expect(new ThreadedProducer({ brokers: ['127.0.0.1:1'], clientId: 'unit' }).close()).resolves.toBeUndefined();
  });
});
