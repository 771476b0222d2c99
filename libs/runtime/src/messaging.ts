import type { KafkaSettings } from '@kcflow/config';
import { DisbursementCommands, kafkaFromConfig, kafkaHealth, MessagingLogger, OutboundRelay, PaymentConfirmationConsumer } from '@kcflow/messaging';
import type { EventStore } from '@kcflow/event-store';
import type { SqlDatabase } from '@kcflow/sql';

/** The Kafka side of a process: the outbound relay and the treasury payment consumer. */
export interface Messaging {
  relay: OutboundRelay;
  payments: PaymentConfirmationConsumer;
  health(): ReturnType<typeof kafkaHealth>;
  stop(): Promise<void>;
}

/**
 * Starts both directions when Kafka is configured (KAFKA_BROKERS); without it nothing
 * Kafka-related starts. Run it in exactly one kind of process per deployment (the worker, or
 * the api on the embedded default): two relays would both publish everything.
 */
export async function startMessaging(
  settings: KafkaSettings | undefined,
  infrastructure: { store: EventStore; readDb: SqlDatabase; readSchema: string },
  commands: DisbursementCommands,
  logger: MessagingLogger,
): Promise<Messaging | undefined> {
  if (!settings) return undefined;
  const kafka = kafkaFromConfig(settings, logger);
  const topicSettings = { partitions: settings.topicPartitions, replicationFactor: Math.min(3, settings.brokers.length) };
  const relay = new OutboundRelay({ store: infrastructure.store, db: infrastructure.readDb, schema: infrastructure.readSchema, kafka, topicSettings, logger });
  const payments = new PaymentConfirmationConsumer({ kafka, commands, topicSettings, logger });
  await relay.start();
  await payments.start();
  return {
    relay,
    payments,
    health: () => kafkaHealth(settings),
    async stop() {
      await payments.stop();
      await relay.stop();
    },
  };
}
