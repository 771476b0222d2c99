import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka } from 'kafkajs';
import { EventStore, GlobalPosition, Subscription, comparePositions, formatPosition, parsePosition } from '@kcflow/event-store';
import { SqlDatabase, quoteSchema } from '@kcflow/sql';
import { EventBatch, EventBatchProducer, toEventBatch } from './event-batch';
import { APPLICATION_PREFIX } from './integration-events';
import { MessagingLogger, silentLogger } from './kafka-config';
import { DEFAULT_RETRY_DELAYS, RetryDelays, backoff, errorMessage, retryUntilDone } from './retry';
import { DEFAULT_TOPICS, TopicSettings, ensureTopics } from './topics';

export interface OutboundRelayOptions {
  store: EventStore;
  /** The read-model database; the checkpoint lives in `<schema>.relay_checkpoints`. */
  db: SqlDatabase;
  schema: string;
  /** Creates the topic if it is missing. */
  kafka: Kafka;
  /** Sends the batches (in production a ThreadedProducer); closed by stop(), reopened by its next send. */
  producer: EventBatchProducer;
  /** Default `kcflow.applications.v1`. */
  topic?: string;
  topicSettings?: TopicSettings;
  /** Checkpoint row; default: the topic name, so a new topic is filled from the first event. */
  name?: string;
  /** Events read from the store and sent to Kafka at once; default 500. */
  batchSize?: number;
  retryDelays?: RetryDelays;
  /** Most events lag() counts before it stops counting; default 10,000. */
  lagCountLimit?: number;
  logger?: MessagingLogger;
}

export interface RelayLag {
  /** Position of the last event the broker acknowledged ("commit/prepare"), null before the first. */
  lastPublishedPosition: string | null;
  headPosition: string | null;
  /** Events in the store after the checkpoint (unpublished kinds, e.g. programme events, included). */
  eventsBehind: number;
  /** eventsBehind reached lagCountLimit: the store is at least that far ahead. */
  eventsBehindCapped: boolean;
}

export interface RelayStatus {
  running: boolean;
  /** Integration events the broker acknowledged since start (duplicates after a retry included). */
  eventsPublished: number;
  lastError: string | null;
}

/**
 * Publishes integration events from the event store (the outbox) to Kafka, at least once:
 * 1. subscribe to the store's application streams from the stored checkpoint;
 * 2. map each batch to integration events, keyed by application id, and send it as one
 *    request of an idempotent producer (acks from all in-sync replicas);
 * 3. only then move the checkpoint to where the batch reaches (its last event, or past it
 *    the programme events the store passed over).
 * A crash between 2 and 3 sends the batch again: consumers drop duplicates by event id.
 * A failed send is retried with back-off on a fresh producer, the batch whole, until it
 * goes through; the next batch waits meanwhile, so nothing later overtakes it.
 *
 * The steps overlap, each staying in order: while a batch is sent, the next one waits mapped
 * and the subscription reads the one after (read-ahead of two batches), and a batch's
 * checkpoint is written while the next one is sent. So batches are sent one after the other
 * in store order, each checkpoint is written after its batch was acknowledged and after the
 * checkpoint before it, and at most two batches are read ahead and one checkpoint behind. A
 * restart waits for all of them before it reads the checkpoint.
 *
 * Why two ahead: with one, the thread sat idle while it waited both for the broker's
 * acknowledgement and for the next read; a second batch in hand fills that wait with reading
 * and mapping (relay +6 % and +10 % in two back-to-back pairs).
 */
export class OutboundRelay {
  private readonly topic: string;
  private readonly name: string;
  private readonly logger: MessagingLogger;
  private readonly retryDelays: RetryDelays;
  private subscription?: Subscription;
  private stopping = new AbortController();
  private readonly producer: EventBatchProducer;
  private resubscribe?: Promise<void>;
  /** The last batch handed over, sent after those before it; rejects only when stop() abandons it. */
  private sending: Promise<void> = Promise.resolve();
  /** The batch handed over before that one. */
  private sendingBefore: Promise<void> = Promise.resolve();
  /** The checkpoint being written behind it; rejects only when stop() abandons it. */
  private checkpointing: Promise<void> = Promise.resolve();
  private state: RelayStatus = { running: false, eventsPublished: 0, lastError: null };

  constructor(private readonly options: OutboundRelayOptions) {
    this.topic = options.topic ?? DEFAULT_TOPICS.applications;
    this.name = options.name ?? this.topic;
    this.logger = options.logger ?? silentLogger;
    this.retryDelays = options.retryDelays ?? DEFAULT_RETRY_DELAYS;
    this.producer = options.producer;
  }

  private get checkpoints(): string {
    return `${quoteSchema(this.options.schema)}.relay_checkpoints`;
  }

  async migrate(): Promise<void> {
    await this.options.db.query(`CREATE SCHEMA IF NOT EXISTS ${quoteSchema(this.options.schema)}`);
    await this.options.db.query(
      `CREATE TABLE IF NOT EXISTS ${this.checkpoints} (
         name text PRIMARY KEY,
         position text NOT NULL,
         updated_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
  }

  /** Creates the checkpoint table and the topic if missing, then relays from the checkpoint. */
  async start(): Promise<void> {
    if (this.state.running) return;
    await Promise.all([this.migrate(), ensureTopics(this.options.kafka, [this.topic], this.options.topicSettings, this.logger)]);
    this.stopping = new AbortController();
    await this.subscribe(0);
    this.state.running = true;
  }

  /** Stops after the batch in hand (a send being retried is abandoned, its checkpoint not moved). */
  async stop(): Promise<void> {
    this.state.running = false;
    this.stopping.abort();
    await this.resubscribe;
    await this.subscription?.stop();
    this.subscription = undefined;
    await this.settled();
    this.sending = Promise.resolve();
    this.sendingBefore = Promise.resolve();
    this.checkpointing = Promise.resolve();
    await this.producer.close();
  }

  status(): RelayStatus {
    return { ...this.state };
  }

  async lag(): Promise<RelayLag> {
    const limit = this.options.lagCountLimit ?? 10_000;
    const [checkpoint, head] = await Promise.all([this.checkpoint(), this.options.store.headPosition()]);
    let eventsBehind = 0;
    if (head && (!checkpoint || comparePositions(checkpoint, head) < 0)) {
      eventsBehind = (await this.options.store.readAll({ after: checkpoint, limit })).length;
    }
    return {
      lastPublishedPosition: checkpoint ? formatPosition(checkpoint) : null,
      headPosition: head ? formatPosition(head) : null,
      eventsBehind,
      eventsBehindCapped: eventsBehind >= limit,
    };
  }

  private async checkpoint(): Promise<GlobalPosition | undefined> {
    const [row] = await this.options.db.query<{ position: string }>(`SELECT position FROM ${this.checkpoints} WHERE name = $1`, [this.name]);
    return row ? parsePosition(row.position) : undefined;
  }

  private async subscribe(failures: number): Promise<void> {
    // A batch still in flight from before a store error moves the checkpoint first.
    await this.settled();
    const after = await this.checkpoint();
    if (this.stopping.signal.aborted) return;
    this.logger.info({ topic: this.topic, position: after ? formatPosition(after) : null }, 'Kafka relay starting');
    const subscription = this.options.store.subscribeToAll({
      after,
      // The store passes over programme streams (never published) without handing them over;
      // a batch of nothing but those still moves the checkpoint, through them.
      streamPrefix: APPLICATION_PREFIX,
      batchSize: this.options.batchSize ?? 500,
      handler: async (events, through) => {
        // Mapped here, so that an event that cannot be mapped stops the subscription.
        const batch = toEventBatch(this.topic, events);
        await this.sendingBefore; // the batch two back is acknowledged (rejects on stop)
        failures = 0;
        this.sendingBefore = this.sending;
        // Chained: it is sent once the batch before it is acknowledged, never if that one was abandoned.
        this.sending = this.sending.then(() => this.publish(batch, through));
        this.sending.catch(() => undefined); // awaited by a later batch, a restart or stop()
      },
      onError: (error) => {
        if (this.subscription === subscription) this.subscription = undefined;
        if (!this.stopping.signal.aborted) this.restartLater(failures + 1, error);
      },
    });
    this.subscription = subscription;
  }

  /** The store failed, or an event could not be mapped: start again from the checkpoint. */
  private restartLater(failures: number, error: unknown): void {
    this.state.lastError = errorMessage(error);
    const retryInMs = backoff(failures, this.retryDelays);
    this.logger.error({ topic: this.topic, err: error, retryInMs }, 'Kafka relay stopped on an error; resubscribing from the checkpoint');
    const signal = this.stopping.signal;
    this.resubscribe = sleep(retryInMs, undefined, { signal })
      .then(() => this.subscribe(failures))
      .catch((next: unknown) => {
        if (!signal.aborted) this.restartLater(failures + 1, next);
      });
  }

  /** Sends the batch (if it holds anything), then queues its checkpoint; resolves once the checkpoint before it is written. */
  private async publish(batch: EventBatch, last: GlobalPosition): Promise<void> {
    if (batch.ids.length > 0) {
      await retryUntilDone(
        () => this.producer.send(batch),
        this.stopping.signal,
        this.retryDelays,
        (error, attempt, delayMs) => this.retrying('Kafka relay could not publish; retrying the batch', error, attempt, delayMs),
      );
      this.state.eventsPublished += batch.ids.length;
    }
    const previous = this.checkpointing;
    this.checkpointing = previous.then(() =>
      retryUntilDone(() => this.saveCheckpoint(last), this.stopping.signal, this.retryDelays, (error, attempt, delayMs) =>
        this.retrying('Kafka relay could not save its checkpoint; retrying', error, attempt, delayMs),
      ).then(() => {
        this.state.lastError = null;
      }),
    );
    this.checkpointing.catch(() => undefined); // awaited by the next batch, a restart or stop()
    await previous; // no more than one checkpoint behind the sends
  }

  /** Waits for the batches handed over and their checkpoints, abandoned or not. */
  private async settled(): Promise<void> {
    await this.sending.catch(() => undefined);
    await this.checkpointing.catch(() => undefined);
  }

  private retrying(message: string, error: unknown, attempt: number, retryInMs: number): void {
    this.state.lastError = errorMessage(error);
    this.logger.warn({ topic: this.topic, err: error, attempt, retryInMs }, message);
  }

  private async saveCheckpoint(position: GlobalPosition): Promise<void> {
    await this.options.db.query(
      `INSERT INTO ${this.checkpoints} (name, position, updated_at) VALUES ($1, $2, now())
       ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = now()`,
      [this.name, formatPosition(position)],
    );
  }
}
