/**
 * 5. Kafka relay: integration events from the store to the broker through OutboundRelay
 * (subscription, mapping, idempotent send from its producer thread, checkpoint per batch),
 * against a raw kafkajs producer sending the same messages, grouped the same way, with the
 * same producer settings, from the bench's own thread.
 *
 * Both producers are connected and warmed the same way before the timed rounds (the same 20
 * batches sent to a warm-up topic) and kept across the rounds: a relay runs for months, so its
 * rate is that of a warm producer, as the raw one's is. What a cold start costs the relay
 * (its thread, kafkajs loaded there, the connection, the first batch) is measured once and
 * reported beside the rates.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, Message, Partitioners, logLevel } from 'kafkajs';
import { GlobalPosition, PostgresEventStore, comparePositions } from '@kcflow/event-store';
import {
  APPLICATION_PREFIX,
  EventBatch,
  EventBatchProducer,
  KafkaConfig,
  OutboundRelay,
  ThreadedProducer,
  ensureTopics,
  kafkaFromConfig,
  toEventBatch,
  toKafkaMessages,
} from '@kcflow/messaging';
import { PgDatabase } from '@kcflow/sql';
import { postgresCpuMs, processCpuMs, threadCpuMs } from '../lib/cpu';
import { OUT_DIR, REPO_ROOT, env, uniqueName } from '../lib/env';
import { eventSchema } from '../lib/event-schema';
import { dropSchemas } from '../lib/pg';
import { Report, log } from '../lib/report';
import { fmt, median } from '../lib/stats';

const BATCH = env.kafkaBatch; // store events per send, for both; 500 is the relay's default
const PARTITIONS = 3; // KAFKA_TOPIC_PARTITIONS' default

function kafkaScript(command: 'start' | 'stop'): void {
  execFileSync('bash', [join(REPO_ROOT, 'test/infra/kafka.sh'), command], {
    stdio: 'inherit',
    env: {
      ...process.env,
      KAFKA_RUN_DIR: join(OUT_DIR, 'kafka'),
      KAFKA_PORT: String(env.kafkaPort),
      KAFKA_CONTROLLER_PORT: String(env.kafkaPort + 1),
      KAFKA_LOG_LEVEL: 'WARN',
    },
  });
}

/** CPU seconds so far: this process (every thread), the private broker, every PostgreSQL process (the machine's, so others' work counts too). */
interface Cpu {
  node: number;
  broker: number;
  postgres: number;
}

function cpuNow(brokerPid: number | undefined): Cpu {
  const { user, system } = process.cpuUsage();
  return { node: (user + system) / 1e6, broker: brokerPid ? processCpuMs(brokerPid) / 1000 : Number.NaN, postgres: postgresCpuMs() / 1000 };
}

function addCpu(total: Cpu, from: Cpu, to: Cpu): void {
  total.node += to.node - from.node;
  total.broker += to.broker - from.broker;
  total.postgres += to.postgres - from.postgres;
}

/**
 * Where this process's CPU went, by thread: the main thread, the relay's producer thread (none
 * for the raw producer), and every other thread (V8's GC helpers, libuv's pool).
 */
interface ThreadCpu {
  main: number;
  producer: number;
  others: number;
}

function addThreadCpu(total: ThreadCpu, from: Map<number, number>, to: Map<number, number>, producerThread: number | undefined): void {
  for (const [thread, ms] of to) {
    const spent = ms - (from.get(thread) ?? 0);
    if (thread === process.pid) total.main += spent;
    else if (thread === producerThread) total.producer += spent;
    else total.others += spent;
  }
}

/** The thread that worked most between the two readings among those that did not exist at the first. */
function busiestNewThread(before: Map<number, number>, after: Map<number, number>): number | undefined {
  let busiest: [number, number] | undefined;
  for (const [thread, ms] of after) if (!before.has(thread) && (!busiest || ms > busiest[1])) busiest = [thread, ms];
  return busiest?.[0];
}

function perThread(cpu: ThreadCpu, messages: number): string {
  const us = (ms: number) => ((ms * 1000) / messages).toFixed(1);
  return `by thread: main ${us(cpu.main)}, producer thread ${us(cpu.producer)}, other threads ${us(cpu.others)} µs per message`;
}

function perMessage(cpu: Cpu, messages: number): string {
  const us = (seconds: number) => ((seconds * 1e6) / messages).toFixed(1);
  return `node ${us(cpu.node)}, broker ${us(cpu.broker)}, PostgreSQL ${us(cpu.postgres)} µs of CPU per message`;
}

export async function main(): Promise<void> {
  const report = new Report('kafka', '5. Kafka relay');
  const ownBroker = !env.kafkaBrokers;
  const brokers = env.kafkaBrokers ?? `127.0.0.1:${env.kafkaPort}`;
  if (ownBroker) kafkaScript('start');
  const store = await eventSchema(report, env.kafkaEvents);
  const checkpointSchema = uniqueName('kafka_read');
  const db = new PgDatabase(env.pgUrl, 4);
  const events = new PostgresEventStore({ db, schema: store.schema });
  const kafkaConfig: KafkaConfig = { brokers: brokers.split(','), clientId: 'kcflow-bench' };
  const kafka = kafkaFromConfig(kafkaConfig);
  try {
    report.setting('broker', `${brokers} (${ownBroker ? 'Apache Kafka 4.4.0 started by test/infra/kafka.sh for this run' : 'given by BENCH_KAFKA_BROKERS'}), ${PARTITIONS} partitions per topic, replication factor 1`);
    report.setting('producer (both)', `kafkajs 2.2.4, idempotent, acks=-1, maxInFlightRequests=1, murmur2 partitioner (ReplacingProducer settings); one send per batch of ${BATCH} events of application streams (the relay reads only those); the raw producer on the bench's thread, the relay's on its ThreadedProducer's thread`);

    // The same messages the relay will send: those of the first kafkaEvents store events, read
    // and grouped as the relay reads them (BATCH events of application streams at a time).
    let end: GlobalPosition | undefined;
    let read = 0;
    while (read < env.kafkaEvents) {
      const page = await events.readAll({ after: end, limit: Math.min(10_000, env.kafkaEvents - read) });
      if (page.length === 0) break;
      read += page.length;
      end = page[page.length - 1].position;
    }
    const eventBatches: EventBatch[] = [];
    let after: GlobalPosition | undefined;
    await events.readAll({ limit: BATCH, streamPrefix: APPLICATION_PREFIX }); // a first read, so that the timed one below is as warm as the relay's
    const readStarted = process.hrtime.bigint();
    while (end) {
      const batch = (await events.readAll({ after, limit: BATCH, streamPrefix: APPLICATION_PREFIX })).filter((e) => comparePositions(e.position, end!) <= 0);
      if (batch.length === 0) break;
      after = batch[batch.length - 1].position;
      eventBatches.push(toEventBatch('raw', batch));
    }
    const batches: Message[][] = eventBatches.map(toKafkaMessages);
    const readSeconds = Number(process.hrtime.bigint() - readStarted) / 1e9;
    const messages = batches.reduce((sum, b) => sum + b.length, 0);
    report.setting('messages', `${fmt(messages)} integration events from the first ${fmt(read)} store events (programme events are not published)`);

    const producer = new Kafka({ brokers: brokers.split(','), clientId: 'kcflow-bench-raw', logLevel: logLevel.WARN }).producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 5 },
    });
    await producer.connect();
    const warmup = uniqueName('warmup');
    await ensureTopics(kafka, [warmup], { partitions: PARTITIONS });
    for (const batch of batches.slice(0, 20)) await producer.send({ topic: warmup, messages: batch, acks: -1 });

    // The relay's producer, started and warmed as the raw one: its first send starts the thread
    // and connects (the cold start, timed), then the same 20 batches to the warm-up topic.
    const relayProducer = new ThreadedProducer(kafkaConfig);
    const threadsBeforeRelay = threadCpuMs();
    const coldStarted = process.hrtime.bigint();
    await relayProducer.send({ ...eventBatches[0], topic: warmup });
    const coldStartMs = Number(process.hrtime.bigint() - coldStarted) / 1e6;
    for (const batch of eventBatches.slice(1, 20)) await relayProducer.send({ ...batch, topic: warmup });
    const producerThread = busiestNewThread(threadsBeforeRelay, threadCpuMs());
    // relay.stop() closes its producer; this one stays up across the rounds, as the raw one does.
    const keptProducer: EventBatchProducer = { send: (batch) => relayProducer.send(batch), close: async () => undefined };
    report.setting('warm-up (both)', `connected, then the first 20 batches sent to a warm-up topic, before the timed rounds; the relay's cold start (thread, kafkajs loaded there, connection, first batch of ${eventBatches[0].ids.length}) took ${coldStartMs.toFixed(0)} ms, not in the rates`);

    const brokerPid = ownBroker ? Number(readFileSync(join(OUT_DIR, 'kafka', 'kafka.pid'), 'utf8').trim()) : undefined;
    const rawCpu: Cpu = { node: 0, broker: 0, postgres: 0 };
    const rawThreads: ThreadCpu = { main: 0, producer: 0, others: 0 };
    const relayThreads: ThreadCpu = { main: 0, producer: 0, others: 0 };
    const relayCpu: Cpu = { node: 0, broker: 0, postgres: 0 };
    const rawRates: number[] = [];
    const relayRates: number[] = [];
    for (let round = 0; round < env.kafkaRounds; round++) {
      const rawTopic = uniqueName('raw').replace(/_/g, '.');
      await ensureTopics(kafka, [rawTopic], { partitions: PARTITIONS });
      const rawCpuFrom = cpuNow(brokerPid);
      const rawThreadsFrom = threadCpuMs();
      const rawStarted = process.hrtime.bigint();
      for (const batch of batches) if (batch.length > 0) await producer.send({ topic: rawTopic, messages: batch, acks: -1 });
      const rawSeconds = Number(process.hrtime.bigint() - rawStarted) / 1e9;
      addCpu(rawCpu, rawCpuFrom, cpuNow(brokerPid));
      addThreadCpu(rawThreads, rawThreadsFrom, threadCpuMs(), producerThread);
      rawRates.push(messages / rawSeconds);
      log(`    round ${round + 1}: raw producer ${fmt(messages / rawSeconds)} messages/s (${rawSeconds.toFixed(1)} s)`);

      const relayTopic = uniqueName('relay').replace(/_/g, '.');
      await ensureTopics(kafka, [relayTopic], { partitions: PARTITIONS });
      const relay = new OutboundRelay({ store: events, db, schema: checkpointSchema, kafka, producer: keptProducer, topic: relayTopic, batchSize: BATCH });
      await relay.migrate();
      const relayCpuFrom = cpuNow(brokerPid);
      const relayThreadsFrom = threadCpuMs();
      const relayStarted = process.hrtime.bigint();
      await relay.start();
      while (relay.status().eventsPublished < messages) {
        if (relay.status().lastError) throw new Error(`relay failed: ${relay.status().lastError}`);
        await sleep(5);
      }
      const relaySeconds = Number(process.hrtime.bigint() - relayStarted) / 1e9;
      addCpu(relayCpu, relayCpuFrom, cpuNow(brokerPid));
      addThreadCpu(relayThreads, relayThreadsFrom, threadCpuMs(), producerThread);
      await relay.stop();
      relayRates.push(messages / relaySeconds);
      log(`    round ${round + 1}: relay ${fmt(messages / relaySeconds)} messages/s (${relaySeconds.toFixed(1)} s, ${(rawSeconds / relaySeconds).toFixed(2)}× this round's raw)`);
    }
    await producer.disconnect();
    await relayProducer.close();
    const raw = median(rawRates);
    const relay = median(relayRates);
    report.add({
      name: 'raw kafkajs producer, the same messages',
      value: raw,
      unit: 'messages/s',
      isBaseline: true,
      note: `rounds: ${rawRates.map((r) => fmt(r)).join(', ')}; ${perMessage(rawCpu, messages * env.kafkaRounds)}; ${perThread(rawThreads, messages * env.kafkaRounds)}`,
    });
    report.add({
      name: 'OutboundRelay, store → broker',
      value: relay,
      unit: 'messages/s',
      baselines: [{ name: 'raw producer', value: raw }],
      bars: [{ text: '≥ 70% of raw', met: relay >= 0.7 * raw }],
      note: `rounds: ${relayRates.map((r) => fmt(r)).join(', ')}; includes reading and mapping the events and a checkpoint write per batch; ${perMessage(relayCpu, messages * env.kafkaRounds)}; ${perThread(relayThreads, messages * env.kafkaRounds)}`,
    });
    // The relay's work beyond the raw send: reading and mapping, which it overlaps with the sends.
    report.add({
      name: 'reading and mapping the same events from the store alone (no broker)',
      value: messages / readSeconds,
      unit: 'messages/s',
      baselines: [{ name: 'raw producer', value: raw }],
      note: `${readSeconds.toFixed(1)} s; raw send ${(messages / raw).toFixed(1)} s + this ${readSeconds.toFixed(1)} s = ${(messages / raw + readSeconds).toFixed(1)} s against the relay's ${(messages / relay).toFixed(1)} s`,
    });
  } finally {
    await events.close();
    await db.close();
    await dropSchemas([checkpointSchema]);
    await store.release();
    if (ownBroker) kafkaScript('stop');
  }
  report.finish();
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
