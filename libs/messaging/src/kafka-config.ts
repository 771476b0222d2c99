import type { ConnectionOptions } from 'node:tls';
import { Kafka, logLevel, type LogEntry, type SASLOptions } from 'kafkajs';

/** What the worker needs to reach Kafka; the lead builds it from the environment. */
export interface KafkaConfig {
  brokers: string[];
  clientId: string;
  /** `true` for TLS with the system's CAs, or Node TLS options (a private CA, client certificates). */
  ssl?: boolean | ConnectionOptions;
  sasl?: SASLOptions;
}

/** pino-compatible: `logger.warn({ topic }, 'message')`. */
export interface MessagingLogger {
  info(context: object, message: string): void;
  warn(context: object, message: string): void;
  error(context: object, message: string): void;
}

export const silentLogger: MessagingLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The one Kafka client of a process. kafkajs logs every reconnect attempt at INFO on its own
 * console logger; here only its warnings and errors reach ours, tagged `kafkajs`.
 */
export function kafkaFromConfig(config: KafkaConfig, logger: MessagingLogger = silentLogger): Kafka {
  return new Kafka({
    brokers: config.brokers,
    clientId: config.clientId,
    ssl: config.ssl,
    sasl: config.sasl,
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => forward(logger, entry),
  });
}

function forward(logger: MessagingLogger, { namespace, level, log }: LogEntry): void {
  const { message, timestamp: _timestamp, ...extra } = log;
  const context = { kafkajs: namespace, ...extra };
  if (level === logLevel.ERROR) logger.error(context, message);
  else if (level === logLevel.WARN) logger.warn(context, message);
  else logger.info(context, message);
}
