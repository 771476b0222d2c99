import { Worker } from 'node:worker_threads';
import type { EventBatch, EventBatchProducer } from './event-batch';
import { KafkaConfig, MessagingLogger, silentLogger } from './kafka-config';

/** What a producer thread starts with; the config crosses by structured clone (no functions). */
export interface ProducerThreadData {
  config: KafkaConfig;
  /** 1 for the first thread of a ThreadedProducer, then one more for each that replaced it. */
  generation: number;
}

type Request = { kind: 'send'; batch: EventBatch } | { kind: 'close' };

/** A request as posted to the thread, with the id its answer comes back under. */
export type ProducerThreadRequest = Request & { id: number };

export type ProducerThreadReply =
  | { kind: 'done'; id: number }
  | { kind: 'failed'; id: number; name: string; message: string }
  | { kind: 'log'; level: 'info' | 'warn' | 'error'; context: object; message: string };

export interface ThreadedProducerOptions {
  logger?: MessagingLogger;
  /** The thread's script; default `producer-thread`. Tests give one that fails. */
  entry?: string;
}

/**
 * The thread's script: the compiled file, or under jest the TypeScript source, which the
 * thread compiles as it loads it (@swc-node/register, a dev dependency).
 */
const PRODUCER_THREAD = require.resolve('./producer-thread');

/**
 * The relay's producer, on a thread of its own. kafkajs's encoding is most of the CPU a
 * relayed event costs (25–31 of 46–60 µs of node CPU, bench/RESULTS.md), and on the relay's
 * thread it added to the reading and mapping; on its own thread the two overlap.
 *
 * The thread runs a ReplacingProducer. A thread that dies (an uncaught error, out of memory)
 * fails the sends it held, and the next send starts a fresh thread, as a ReplacingProducer
 * replaces a producer whose send failed; the relay's retry sends the batch again.
 */
export class ThreadedProducer implements EventBatchProducer {
  private thread?: ProducerThread;
  private generation = 0;

  constructor(
    private readonly config: KafkaConfig,
    private readonly options: ThreadedProducerOptions = {},
  ) {}

  async send(batch: EventBatch): Promise<void> {
    this.thread ??= this.start();
    await this.thread.request({ kind: 'send', batch });
  }

  /** Disconnects the producer and ends the thread; a later send starts a new one. */
  async close(): Promise<void> {
    const thread = this.thread;
    this.thread = undefined;
    await thread?.close();
  }

  private start(): ProducerThread {
    const data: ProducerThreadData = { config: this.config, generation: ++this.generation };
    const thread = new ProducerThread(this.options.entry ?? PRODUCER_THREAD, data, this.options.logger ?? silentLogger, () => {
      if (this.thread === thread) this.thread = undefined;
    });
    return thread;
  }
}

class ProducerThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private nextId = 0;
  private exited?: Error;

  constructor(entry: string, data: ProducerThreadData, logger: MessagingLogger, onExit: () => void) {
    const thread = { producerThread: data.generation };
    this.worker = new Worker(entry, {
      workerData: data,
      // Left unset, the thread inherits the process's options (--cpu-prof, say). Passed on
      // explicitly, V8's among them (--max-old-space-size) would stop the thread from starting.
      execArgv: entry.endsWith('.ts') ? ['--require', require.resolve('@swc-node/register')] : undefined,
    });
    this.worker.on('message', (reply: ProducerThreadReply) => {
      if (reply.kind === 'log') {
        logger[reply.level]({ ...reply.context, ...thread }, reply.message);
        return;
      }
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.kind === 'done') waiting?.resolve();
      else waiting?.reject(Object.assign(new Error(reply.message), { name: reply.name }));
    });
    this.worker.on('error', (error) => logger.error({ err: error, ...thread }, 'The Kafka producer thread failed'));
    this.worker.on('exit', (code) => {
      this.exited = new Error(`The Kafka producer thread exited (code ${code})`);
      for (const waiting of this.pending.values()) waiting.reject(this.exited);
      this.pending.clear();
      onExit();
    });
  }

  request(request: Request): Promise<void> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id } satisfies ProducerThreadRequest);
    });
  }

  async close(): Promise<void> {
    await this.request({ kind: 'close' }).catch(() => undefined); // a thread that has exited has nothing to disconnect
    await this.worker.terminate();
  }
}
