/**
 * The Kafka producer's thread (started by ThreadedProducer): a ReplacingProducer that sends
 * the batches posted to it and answers each request by its id. kafkajs's logs go back to the
 * process's logger.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { toKafkaMessages } from './event-batch';
import { MessagingLogger, kafkaFromConfig } from './kafka-config';
import { ReplacingProducer } from './producer';
import type { ProducerThreadData, ProducerThreadReply, ProducerThreadRequest } from './threaded-producer';

if (!parentPort) throw new Error('producer-thread runs only as a worker thread started by ThreadedProducer');
const port = parentPort;
const { config } = workerData as ProducerThreadData;

function post(reply: ProducerThreadReply): void {
  port.postMessage(reply);
}

function forward(level: 'info' | 'warn' | 'error'): MessagingLogger['info'] {
  return (context, message) => {
    try {
      post({ kind: 'log', level, context, message });
    } catch {
      // A context that cannot be cloned (kafkajs passes on what it was given) still reaches the log, as text.
      post({ kind: 'log', level, context: { detail: String(context) }, message });
    }
  };
}

const logger: MessagingLogger = { info: forward('info'), warn: forward('warn'), error: forward('error') };
const producer = new ReplacingProducer(kafkaFromConfig(config, logger));

port.on('message', (request: ProducerThreadRequest) => {
  void answer(request);
});

async function answer(request: ProducerThreadRequest): Promise<void> {
  try {
    if (request.kind === 'send') await producer.send({ topic: request.batch.topic, messages: toKafkaMessages(request.batch) });
    else await producer.close();
    post({ kind: 'done', id: request.id });
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    post({ kind: 'failed', id: request.id, name, message });
  }
}
