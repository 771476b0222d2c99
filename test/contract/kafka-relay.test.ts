import { randomUUID } from 'node:crypto';
import { Kafka } from 'kafkajs';
import { applicationStream, programmeStream } from '@kcflow/domain';
import { InMemoryEventStore, formatPosition } from '@kcflow/event-store';
import { IntegrationEvent, KafkaConfig, OutboundRelay, OutboundRelayOptions, ThreadedProducer, TopicNames, ensureTopics, kafkaFromConfig, kafkaHealth } from '@kcflow/messaging';
import { PgDatabase, PgliteDatabase, SqlDatabase, quoteSchema } from '@kcflow/sql';
import {
  ConsumedMessage,
  applicationLife,
  consumeUntil,
  newEvent,
  recordingLogger,
  PrivateBroker,
  uniqueTopics,
  waitFor,
} from '../../libs/messaging/src/testing/kafka-testing';
import { KAFKA_BROKERS, POSTGRES_URL, describeWithKafka, uniqueSchema } from '../support/services';

/** Appends `applications` × `perApplication` events, one event per application in turn, so streams interleave. */
async function appendInterleaved(store: InMemoryEventStore, ids: string[], perApplication: number, pauseEveryRoundMs = 0) {
  const lives = ids.map((id) => applicationLife(id, perApplication));
  for (let revision = 0; revision < perApplication; revision++) {
    for (const [i, id] of ids.entries()) {
      await store.append(applicationStream(id), [newEvent(lives[i][revision])], revision === 0 ? 'no_stream' : revision - 1);
    }
    if (pauseEveryRoundMs > 0) await new Promise((r) => setTimeout(r, pauseEveryRoundMs));
  }
}

/**
 * What a consumer following the README does: drop a repeated event id, then check that each
 * key's events come in stream order and that nothing is missing. Returns the duplicates.
 */
function assertCompleteAndOrdered(messages: ConsumedMessage[], ids: string[], perApplication: number): number {
  const seen = new Set<string>();
  const revisionsByKey = new Map<string, number[]>();
  const partitionsByKey = new Map<string, Set<number>>();
  let duplicates = 0;
  for (const message of messages) {
    const event = JSON.parse(message.value!) as IntegrationEvent;
    expect(message.headers['kcflow-event-id']).toBe(event.id);
    expect(message.key).toBe(event.subject);
    partitionsByKey.set(event.subject, (partitionsByKey.get(event.subject) ?? new Set()).add(message.partition));
    if (seen.has(event.id)) {
      duplicates++;
      continue;
    }
    seen.add(event.id);
    revisionsByKey.set(event.subject, [...(revisionsByKey.get(event.subject) ?? []), event.revision]);
  }
  const expected = Array.from({ length: perApplication }, (_, revision) => revision);
  for (const id of ids) {
    expect({ id, revisions: revisionsByKey.get(id) }).toEqual({ id, revisions: expected });
    expect(partitionsByKey.get(id)?.size).toBe(1);
  }
  expect(seen.size).toBe(ids.length * perApplication);
  return duplicates;
}

const distinctIds = (messages: ConsumedMessage[]) => new Set(messages.map((m) => m.headers['kcflow-event-id'])).size;

describeWithKafka('Kafka outbound relay (real broker)', () => {
  let db: SqlDatabase;
  let kafka: Kafka;
  const schemas: string[] = [];
  const logger = recordingLogger();
  const kafkaConfig: KafkaConfig = { brokers: KAFKA_BROKERS.split(','), clientId: 'kcflow-relay-test' };

  beforeAll(async () => {
    // The checkpoint's database: a real PostgreSQL when the test run has one, else embedded PGlite.
    db = process.env.KCFLOW_TEST_POSTGRES_UNAVAILABLE ? await PgliteDatabase.open(undefined) : new PgDatabase(POSTGRES_URL);
    kafka = kafkaFromConfig(kafkaConfig, logger);
  }, 60_000);

  afterAll(async () => {
    for (const schema of schemas) await db?.query(`DROP SCHEMA IF EXISTS ${quoteSchema(schema)} CASCADE`);
    await db?.close();
  });

  beforeEach(() => {
    logger.entries.length = 0;
  });

  function relayFor(store: InMemoryEventStore, topics: TopicNames, schema: string, overrides: Partial<OutboundRelayOptions> = {}) {
    schemas.push(schema);
    return new OutboundRelay({
      store,
      db,
      schema,
      kafka,
      producer: new ThreadedProducer(kafkaConfig, { logger }),
      topic: topics.applications,
      batchSize: 500,
      retryDelays: { initialMs: 100, maxMs: 1000 },
      logger,
      ...overrides,
    });
  }

  it('publishes 10,000 events of 500 applications completely, in order per application, from a stored checkpoint', async () => {
    const topics = uniqueTopics();
    const schema = uniqueSchema('relay');
    const store = new InMemoryEventStore();
    const ids = Array.from({ length: 500 }, () => randomUUID());
    // Programme events share the store but are not part of the contract.
    await store.append(programmeStream('hn-2024'), [newEvent({ type: 'ProgrammeOpened', data: { programmeId: 'hn-2024' } })], 'no_stream');
    await appendInterleaved(store, ids.slice(0, 250), 20);

    const relay = relayFor(store, topics, schema);
    await relay.start();
    await appendInterleaved(store, ids.slice(250), 20); // while it runs
    await waitFor('the relay to catch up', async () => (await relay.lag()).eventsBehind === 0, 60_000);

    const messages = await consumeUntil(kafka, topics.applications, (m) => m.length >= 10_000, 60_000);
    expect(messages).toHaveLength(10_000);
    expect(assertCompleteAndOrdered(messages, ids, 20)).toBe(0);
    const head = await store.headPosition();
    expect(await relay.lag()).toEqual({
      lastPublishedPosition: formatPosition(head!),
      headPosition: formatPosition(head!),
      eventsBehind: 0,
      eventsBehindCapped: false,
    });
    expect(relay.status()).toMatchObject({ running: true, eventsPublished: 10_000, lastError: null });

    // A restarted relay goes on from its checkpoint: one new event, one new message.
    await relay.stop();
    const again = relayFor(store, topics, schema);
    await again.start();
    await store.append(applicationStream(ids[0]), [newEvent({ type: 'ApplicationClosed', data: { reason: 'Hoàn thành' } })], 19);
    const after = await consumeUntil(kafka, topics.applications, (m) => m.length >= 10_001, 30_000);
    await new Promise((r) => setTimeout(r, 500)); // room for a wrong extra message to show up
    expect(again.status().eventsPublished).toBe(1);
    expect(after).toHaveLength(10_001);
    await again.stop();
    await store.close();
  }, 180_000);

  it('replaces a producer thread that dies mid-send: the batch is sent again and every event arrives, in order per key', async () => {
    const topics = uniqueTopics();
    const store = new InMemoryEventStore();
    const ids = Array.from({ length: 30 }, () => randomUUID());
    await appendInterleaved(store, ids, 10);
    const relay = relayFor(store, topics, uniqueSchema('relay'), {
      producer: new ThreadedProducer(kafkaConfig, { logger, entry: require.resolve('../../libs/messaging/src/testing/dying-producer-thread') }),
      batchSize: 100,
    });
    await relay.start();
    await waitFor('the relay to catch up', async () => (await relay.lag()).eventsBehind === 0, 60_000);
    expect(logger.entries.some((line) => line.includes('Kafka relay could not publish; retrying the batch') && line.includes('The Kafka producer thread exited (code 70)'))).toBe(true);
    const messages = await consumeUntil(kafka, topics.applications, (m) => m.length >= 300, 30_000);
    await new Promise((r) => setTimeout(r, 500)); // room for a wrong extra message to show up
    expect(assertCompleteAndOrdered(messages, ids, 10)).toBe(0); // the dead thread sent nothing
    expect(relay.status()).toMatchObject({ eventsPublished: 300, lastError: null });
    await relay.stop();
    await store.close();
  }, 120_000);

  it('publishes the public envelope, without personal data or free text', async () => {
    const topics = uniqueTopics();
    const store = new InMemoryEventStore();
    const id = randomUUID();
    const life = applicationLife(id, 4);
    await store.append(applicationStream(id), life.map((e) => newEvent(e, new Date('2024-05-02T03:00:00.000Z'))), 'no_stream');
    const relay = relayFor(store, topics, uniqueSchema('relay'));
    await relay.start();
    const messages = await consumeUntil(kafka, topics.applications, (m) => m.length >= 4, 30_000);
    await relay.stop();

    const [submitted, reviewed, approved, disbursed] = messages.map((m) => JSON.parse(m.value!));
    const stored = await store.readStream(applicationStream(id));
    expect(messages[2].headers).toEqual({
      'kcflow-event-id': stored[2].id,
      'kcflow-event-type': 'kcflow.application.approved.v1',
      'content-type': 'application/cloudevents+json; charset=UTF-8',
    });
    expect(approved).toEqual({
      specversion: '1.0',
      id: stored[2].id,
      type: 'kcflow.application.approved.v1',
      source: 'kcflow',
      subject: id,
      time: '2024-05-02T03:00:00.000Z',
      datacontenttype: 'application/json',
      revision: 2,
      data: { applicationId: id, status: 'approved', decisionNumber: '1234/QĐ-UBND', decisionDate: '2024-05-02', approvedAmount: 200_000_000, advanceShare: 0.7 },
    });
    expect(submitted.data).toEqual({
      applicationId: id,
      status: 'submitted',
      programmeId: 'hn-2024',
      category: 'product_design',
      applicantKind: 'household',
      district: 'Chương Mỹ',
      totalCost: 400_000_000,
      requestedAmount: 200_000_000,
    });
    expect(reviewed.data).toEqual({ applicationId: id, status: 'reviewed', score: 82, recommendation: 'approve', recommendedAmount: 200_000_000 });
    expect(disbursed.data).toEqual({ applicationId: id, paymentRef: `${id}-p1`, amount: 1_000_000, paidAt: '2024-06-01T09:00:00+07:00' });
    const everything = messages.map((m) => m.value).join('\n');
    for (const secret of ['0101234567', 'Nguyễn Văn A', 'Mười mẫu', 'Hồ sơ đầy đủ', 'womenLed', 'reviewer-1', 'owner-1']) {
      expect(everything).not.toContain(secret);
    }
  }, 60_000);

  it('creates missing topics with the configured partitions, leaves existing ones, and reports health', async () => {
    const topics = uniqueTopics();
    await ensureTopics(kafka, [topics.applications, topics.payments], { partitions: 5 });
    await ensureTopics(kafka, [topics.applications], { partitions: 2 }); // exists: unchanged
    const admin = kafka.admin();
    await admin.connect();
    const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [topics.applications, topics.payments] });
    await admin.disconnect();
    expect(metadata.map((t) => t.partitions.length)).toEqual([5, 5]);

    expect(await kafkaHealth({ brokers: KAFKA_BROKERS.split(','), clientId: 'kcflow-health-test' })).toEqual({
      status: 'up',
      clusterId: expect.any(String),
      brokers: 1,
    });
    const started = Date.now();
    expect(await kafkaHealth({ brokers: ['127.0.0.1:1'], clientId: 'kcflow-health-test' }, 2000)).toEqual({ status: 'down', error: expect.stringMatching(/ECONNREFUSED|did not answer/) });
    expect(Date.now() - started).toBeLessThan(3000);
  }, 30_000);

  // The broker is the test's own (test/infra/kafka.sh on other ports), so the shared one and
  // the suites using it at the same moment never see it go away.
  it('survives a broker restart mid-stream: every event arrives, in order per key, duplicates only as the same event id', async () => {
    const broker = await PrivateBroker.start();
    const privateConfig: KafkaConfig = { brokers: [broker.brokers], clientId: 'kcflow-relay-restart-test' };
    const privateKafka = kafkaFromConfig(privateConfig, logger);
    const topics = uniqueTopics();
    const store = new InMemoryEventStore();
    const ids = Array.from({ length: 200 }, () => randomUUID());
    const relay = relayFor(store, topics, uniqueSchema('relay'), {
      kafka: privateKafka,
      producer: new ThreadedProducer(privateConfig, { logger }),
      batchSize: 50,
    });
    try {
      await relay.start();
      // 4,000 events over about ten seconds: before and during the outage.
      const appending = appendInterleaved(store, ids, 20, 500);
      await waitFor('the relay to publish its first thousand events', () => relay.status().eventsPublished >= 1000, 30_000, 10);
      await broker.stop();
      const publishedBeforeTheStop = relay.status().eventsPublished;
      expect(publishedBeforeTheStop).toBeLessThan(4000);
      // Down long enough for kafkajs to give up on a send (about 20 s), so the relay's own retry, on a fresh producer, takes over.
      await waitFor('the relay to report a failed send', () => relay.status().lastError !== null, 120_000, 250);
      expect(relay.status().eventsPublished).toBe(publishedBeforeTheStop);
      expect((await relay.lag()).eventsBehind).toBeGreaterThan(0);
      await broker.startAgain();
      await appending;
      await waitFor('the relay to catch up after the restart', async () => (await relay.lag()).eventsBehind === 0, 120_000, 250);
      expect(relay.status().lastError).toBeNull();
      expect(logger.entries.some((line) => line.includes('Kafka relay could not publish; retrying the batch'))).toBe(true);

      const messages = await consumeUntil(privateKafka, topics.applications, (m) => distinctIds(m) >= 4000, 60_000);
      const duplicates = assertCompleteAndOrdered(messages, ids, 20);
      console.log(`broker restart: ${publishedBeforeTheStop} events published before the stop; ${messages.length} messages for 4000 events (${duplicates} duplicates)`);
    } finally {
      await relay.stop();
      await store.close();
      await broker.destroy();
    }
  }, 300_000);
});
