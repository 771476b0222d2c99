import { Kafka, Partitioners, Producer, ProducerRecord } from 'kafkajs';

/**
 * An idempotent producer (acks from all in-sync replicas, one request in flight, so a key's
 * messages keep their order), connected on first use and replaced after a failed send: a
 * kafkajs idempotent producer that failed may be out of step with the broker's sequence
 * numbers, and a fresh one starts clean. Its own retries are bounded, so a broker that is
 * down hands control back to the caller's retry loop, which a stop() can end.
 */
export class ReplacingProducer {
  private producer?: Producer;

  constructor(private readonly kafka: Kafka) {}

  async send(record: Omit<ProducerRecord, 'acks'>): Promise<void> {
    const producer = await this.connected();
    try {
      await producer.send({ ...record, acks: -1 });
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  private async connected(): Promise<Producer> {
    if (this.producer) return this.producer;
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // Java's murmur2: a key lands on the same partition as from any Java client.
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 5 },
    });
    try {
      await producer.connect();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
    this.producer = producer;
    return producer;
  }
}
