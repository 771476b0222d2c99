import type { KafkaSettings } from '@kcflow/config';
import type { EventStore } from '@kcflow/event-store';
import { DisbursementCommands, kafkaFromConfig, kafkaHealth, MessagingLogger, OutboundRelay, PaymentConfirmationConsumer, ThreadedProducer } from '@kcflow/messaging';
import type { ProjectionLeases } from '@kcflow/read-models';
import type { SqlDatabase } from '@kcflow/sql';

/** The Kafka side of a process: the outbound relay and the treasury payment consumer. */
export interface Messaging {
  relay: OutboundRelay;
  payments: PaymentConfirmationConsumer;
  health(): ReturnType<typeof kafkaHealth>;
  stop(): Promise<void>;
}

export interface MessagingDependencies {
  store: EventStore;
  readDb: SqlDatabase;
  readSchema: string;
  /** Several worker copies share one relay: it runs in the copy holding this lease. */
  leases?: ProjectionLeases;
}

const RELAY_LEASE = 'kafka-relay';

/**
 * Starts both directions when Kafka is configured (KAFKA_BROKERS); without it nothing
 * Kafka-related starts. The payment consumer runs in every copy (the consumer group shares
 * the partitions out); the relay in one copy at a time, since two would publish everything
 * twice.
 */
export async function startMessaging(
  settings: KafkaSettings | undefined,
  dependencies: MessagingDependencies,
  commands: DisbursementCommands,
  logger: MessagingLogger,
): Promise<Messaging | undefined> {
  if (!settings) return undefined;
  const kafka = kafkaFromConfig(settings, logger);
  const topicSettings = { partitions: settings.topicPartitions, replicationFactor: Math.min(3, settings.brokers.length) };
  const { store, readDb, readSchema, leases } = dependencies;
  const producer = new ThreadedProducer(settings, { logger });
  const relay = new OutboundRelay({ store, db: readDb, schema: readSchema, kafka, producer, topicSettings, logger });
  const payments = new PaymentConfirmationConsumer({ kafka, commands, topicSettings, logger });
  await payments.start();

  let lease: Awaited<ReturnType<ProjectionLeases['tryAcquire']>>;
  let timer: NodeJS.Timeout | undefined;
  if (!leases) {
    await relay.start();
  } else {
    const takeOver = async () => {
      if (lease) return;
      lease = await leases.tryAcquire(RELAY_LEASE);
      if (lease) {
        logger.info({ lease: RELAY_LEASE }, 'this copy now runs the Kafka relay');
        await relay.start();
      }
    };
    await takeOver();
    timer = setInterval(() => void takeOver().catch((error) => logger.error({ err: error }, 'taking over the Kafka relay failed')), leases.pollIntervalMs);
  }
  return {
    relay,
    payments,
    health: () => kafkaHealth(settings),
    async stop() {
      clearInterval(timer);
      await payments.stop();
      await relay.stop();
      await lease?.release();
    },
  };
}
