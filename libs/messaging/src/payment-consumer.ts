import { Consumer, EachMessagePayload, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { DomainError } from '@kcflow/domain';
import { TransitionApplicationCommand } from '@kcflow/workflow';
import { MessagingLogger, silentLogger } from './kafka-config';
import { parsePaymentConfirmation } from './payment-confirmation';
import { ReplacingProducer } from './producer';
import { DEFAULT_RETRY_DELAYS, RetryDelays, errorMessage, retryUntilDone } from './retry';
import { DEFAULT_TOPICS, TopicSettings, ensureTopics } from './topics';

/** The CommandBus, or the TransitionApplicationHandler itself. */
export interface DisbursementCommands {
  execute(command: TransitionApplicationCommand): Promise<unknown>;
}

export interface PaymentConsumerOptions {
  kafka: Kafka;
  commands: DisbursementCommands;
  /** Default `kcflow-treasury-payments`. */
  groupId?: string;
  /** Default `treasury.payments.v1`. */
  topic?: string;
  /** Default `treasury.payments.v1.dlq`. */
  deadLetterTopic?: string;
  topicSettings?: TopicSettings;
  /** Who the disbursement events name; default `{ id: 'treasury', role: 'finance' }`. */
  actor?: { id: string; role: string };
  retryDelays?: RetryDelays;
  logger?: MessagingLogger;
}

export interface PaymentConsumerStatus {
  running: boolean;
  /** Since start: confirmations applied (a redelivered one that changed nothing counts too). */
  applied: number;
  deadLettered: number;
  lastError: string | null;
}

export const DLQ_HEADERS = {
  reason: 'kcflow-dlq-reason',
  code: 'kcflow-dlq-code',
  topic: 'kcflow-dlq-original-topic',
  partition: 'kcflow-dlq-original-partition',
  offset: 'kcflow-dlq-original-offset',
} as const;

/**
 * Turns the treasury's payment confirmations into disbursement commands. Per message:
 * 1. check its shape; a malformed one goes to the dead-letter topic;
 * 2. disburse: idempotent on paymentRef, so a redelivered confirmation pays nothing twice;
 *    a refusal of the domain (unknown application, over the approved amount, wrong stage)
 *    goes to the dead-letter topic with its code and reason;
 * 3. commit the offset after it, and only after it.
 * Anything else (the store or Kafka down) is retried with back-off, heartbeating, for as
 * long as it takes: the partition waits rather than skip an unapplied payment.
 */
export class PaymentConfirmationConsumer {
  private readonly topic: string;
  private readonly deadLetterTopic: string;
  private readonly logger: MessagingLogger;
  private readonly actor: { id: string; role: string };
  private readonly deadLetters: ReplacingProducer;
  private consumer?: Consumer;
  private stopping = new AbortController();
  private state: PaymentConsumerStatus = { running: false, applied: 0, deadLettered: 0, lastError: null };

  constructor(private readonly options: PaymentConsumerOptions) {
    this.topic = options.topic ?? DEFAULT_TOPICS.payments;
    this.deadLetterTopic = options.deadLetterTopic ?? DEFAULT_TOPICS.paymentsDeadLetter;
    this.logger = options.logger ?? silentLogger;
    this.actor = options.actor ?? { id: 'treasury', role: 'finance' };
    this.deadLetters = new ReplacingProducer(options.kafka);
  }

  /** Creates both topics if missing, joins the group and consumes from the committed offsets. */
  async start(): Promise<void> {
    if (this.consumer) return;
    await ensureTopics(this.options.kafka, [this.topic, this.deadLetterTopic], this.options.topicSettings, this.logger);
    this.stopping = new AbortController();
    const groupId = this.options.groupId ?? 'kcflow-treasury-payments';
    const consumer = this.options.kafka.consumer({ groupId });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.state.lastError = errorMessage(payload.error);
      this.logger.error({ topic: this.topic, err: payload.error, restart: payload.restart }, 'Payment consumer crashed');
      if (!payload.restart) this.state.running = false;
    });
    try {
      await consumer.connect();
      // A new group starts at the oldest confirmation still kept: none may be skipped.
      await consumer.subscribe({ topic: this.topic, fromBeginning: true });
      await consumer.run({ autoCommit: false, eachMessage: (payload) => this.handle(consumer, payload) });
    } catch (error) {
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
    this.consumer = consumer;
    this.state.running = true;
    this.logger.info({ topic: this.topic, groupId }, 'Payment consumer started');
  }

  /** Leaves the group after the message in hand; a message still being retried stays uncommitted. */
  async stop(): Promise<void> {
    this.stopping.abort();
    const consumer = this.consumer;
    this.consumer = undefined;
    this.state.running = false;
    await consumer?.disconnect();
    await this.deadLetters.close();
  }

  status(): PaymentConsumerStatus {
    return { ...this.state };
  }

  private async handle(consumer: Consumer, { topic, partition, message, heartbeat }: EachMessagePayload): Promise<void> {
    const where = { topic, partition, offset: message.offset };
    const delays = this.options.retryDelays ?? DEFAULT_RETRY_DELAYS;
    await retryUntilDone(() => this.apply(topic, partition, message), this.stopping.signal, delays, async (error, attempt, retryInMs) => {
      this.state.lastError = errorMessage(error);
      this.logger.warn({ ...where, err: error, attempt, retryInMs }, 'Payment confirmation not applied yet; retrying');
      await heartbeat();
    });
    await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
  }

  private async apply(topic: string, partition: number, message: KafkaMessage): Promise<void> {
    const parsed = parsePaymentConfirmation(message.value);
    if (!parsed.ok) return this.deadLetter(topic, partition, message, parsed.code, parsed.reason);
    const { paymentRef, applicationId, amount, paidAt } = parsed.confirmation;
    const command = new TransitionApplicationCommand(
      applicationId,
      { type: 'DisburseFunds', actor: { id: this.actor.id }, data: { paymentRef, amount, paidAt } },
      {
        actorId: this.actor.id,
        role: this.actor.role,
        correlationId: `payment:${paymentRef}`,
        causationId: `kafka:${topic}/${partition}/${message.offset}`,
      },
    );
    try {
      await this.options.commands.execute(command);
    } catch (error) {
      if (error instanceof DomainError) return this.deadLetter(topic, partition, message, error.code, error.message);
      throw error;
    }
    this.state.applied++;
    this.state.lastError = null;
  }

  private async deadLetter(topic: string, partition: number, message: KafkaMessage, code: string, reason: string): Promise<void> {
    const headers: IHeaders = {
      ...message.headers,
      [DLQ_HEADERS.reason]: reason.slice(0, 1000),
      [DLQ_HEADERS.code]: code,
      [DLQ_HEADERS.topic]: topic,
      [DLQ_HEADERS.partition]: String(partition),
      [DLQ_HEADERS.offset]: message.offset,
    };
    await this.deadLetters.send({ topic: this.deadLetterTopic, messages: [{ key: message.key, value: message.value, headers }] });
    this.state.deadLettered++;
    this.logger.warn({ topic, partition, offset: message.offset, code, reason }, 'Payment confirmation dead-lettered');
  }
}
