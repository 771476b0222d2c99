import { Kafka, logLevel } from 'kafkajs';
import { KafkaConfig, MessagingLogger, silentLogger } from './kafka-config';

/** Topic names; every one can be changed (tests give each run its own). */
export interface TopicNames {
  /** Integration events of applications, keyed by application id (outbound). */
  applications: string;
  /** Payment confirmations from the treasury (inbound). */
  payments: string;
  /** Payment confirmations that could not be applied, with the reason in headers. */
  paymentsDeadLetter: string;
}

export const DEFAULT_TOPICS: TopicNames = {
  applications: 'kcflow.applications.v1',
  payments: 'treasury.payments.v1',
  paymentsDeadLetter: 'treasury.payments.v1.dlq',
};

/** Used only when a topic is created; an existing topic is left as it is. */
export interface TopicSettings {
  /** Default 3. Keys spread over partitions; order holds per key, so more partitions never break it. */
  partitions?: number;
  /** Default 1 (a single broker); 3 on a production cluster. */
  replicationFactor?: number;
}

/** Creates the topics that do not exist yet and waits until they have leaders. */
export async function ensureTopics(
  kafka: Kafka,
  topics: readonly string[],
  { partitions = 3, replicationFactor = 1 }: TopicSettings = {},
  logger: MessagingLogger = silentLogger,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = [...new Set(topics)].filter((topic) => !existing.has(topic));
    if (missing.length === 0) return;
    // false means another client created one of them first: just as good.
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor })),
    });
    logger.info({ topics: missing, partitions, replicationFactor }, 'Kafka topics created');
  } finally {
    await admin.disconnect();
  }
}

export type KafkaHealth =
  | { status: 'up'; clusterId: string; brokers: number }
  | { status: 'down'; error: string };

/**
 * For /health/ready: the cluster answers a metadata request within `timeoutMs`. It uses a
 * client of its own that tries once: the shared client's retries would keep a probe of a
 * broker that is down going long after the answer was given.
 */
export async function kafkaHealth(config: KafkaConfig, timeoutMs = 3000): Promise<KafkaHealth> {
  const kafka = new Kafka({
    brokers: config.brokers,
    clientId: `${config.clientId}-health`,
    ssl: config.ssl,
    sasl: config.sasl,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Kafka did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const cluster = await Promise.race([admin.connect().then(() => admin.describeCluster()), timeout]);
    return { status: 'up', clusterId: cluster.clusterId, brokers: cluster.brokers.length };
  } catch (error) {
    return { status: 'down', error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}
