import type { AppConfig } from '@kcflow/config';
import { kafkaHealth } from '@kcflow/messaging';

/** A dependency GET /health/ready reports beside the store and the read models. */
export interface ReadinessProbe {
  name: string;
  /** Resolves if the dependency answers; rejects with the reason otherwise. */
  check(): Promise<void>;
}

/** The probes the configuration calls for: Kafka (an admin request to the cluster) when KAFKA_BROKERS is set. */
export function readinessProbes(config: AppConfig): ReadinessProbe[] {
  const kafka = config.kafka;
  if (!kafka) return [];
  return [
    {
      name: 'kafka',
      async check() {
        const health = await kafkaHealth(kafka);
        if (health.status === 'down') throw new Error(health.error);
      },
    },
  ];
}
