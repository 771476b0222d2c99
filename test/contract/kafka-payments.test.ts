import { randomUUID } from 'node:crypto';
import { Kafka, Partitioners, Producer } from 'kafkajs';
import { InMemoryEventStore } from '@kcflow/event-store';
import { DLQ_HEADERS, DisbursementCommands, PaymentConfirmation, PaymentConfirmationConsumer, TopicNames, kafkaFromConfig } from '@kcflow/messaging';
import { Workflow } from '../../libs/messaging/src/testing/approved-application';
import { consumeUntil, recordingLogger, uniqueTopics, waitFor } from '../../libs/messaging/src/testing/kafka-testing';
import { KAFKA_BROKERS, describeWithKafka } from '../support/services';

describeWithKafka('Kafka payment confirmations (real broker)', () => {
  let kafka: Kafka;
  let producer: Producer;
  let store: InMemoryEventStore;
  let workflow: Workflow;
  let topics: TopicNames;
  let groupId: string;
  const consumers: PaymentConfirmationConsumer[] = [];
  const logger = recordingLogger();

  beforeAll(async () => {
    kafka = kafkaFromConfig({ brokers: KAFKA_BROKERS.split(','), clientId: 'kcflow-payments-test' }, logger);
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
  }, 30_000);

  afterAll(() => producer?.disconnect());

  beforeEach(async () => {
    store = new InMemoryEventStore();
    workflow = new Workflow(store);
    await workflow.openProgramme();
    topics = uniqueTopics();
    groupId = `kcflow-payments-test-${randomUUID()}`;
    logger.entries.length = 0;
  });

  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));
    await store.close();
  });

  async function startConsumer(commands: DisbursementCommands = workflow.transitions, group = groupId) {
    const consumer = new PaymentConfirmationConsumer({
      kafka,
      commands,
      groupId: group,
      topic: topics.payments,
      deadLetterTopic: topics.paymentsDeadLetter,
      retryDelays: { initialMs: 50, maxMs: 500 },
      logger,
    });
    consumers.push(consumer);
    await consumer.start();
    return consumer;
  }

  async function publish(key: string, ...values: (PaymentConfirmation | string)[]) {
    await producer.send({
      topic: topics.payments,
      messages: values.map((value) => ({ key, value: typeof value === 'string' ? value : JSON.stringify(value) })),
    });
  }

  const confirmation = (applicationId: string, paymentRef: string, amount = 30_000_000): PaymentConfirmation => ({
    paymentRef,
    applicationId,
    amount,
    paidAt: '2024-06-03T10:15:00+07:00',
  });
  const handled = (consumer: PaymentConfirmationConsumer) => consumer.status().applied + consumer.status().deadLettered;

  it('pays a confirmation delivered five times once, and again once when the whole topic is read again', async () => {
    const id = await workflow.approved();
    const consumer = await startConsumer();
    const payment = confirmation(id, 'KBNN-2024-000123');
    await publish(id, payment, payment, payment, payment, payment);
    await waitFor('five deliveries', () => handled(consumer) === 5, 30_000);

    // Another group reads everything from the start: a full redelivery.
    const rereader = await startConsumer(workflow.transitions, `${groupId}-again`);
    await waitFor('the re-read', () => handled(rereader) === 5, 30_000);

    const { application, eventTypes } = await workflow.application(id);
    expect(eventTypes.filter((type) => type === 'FundsDisbursed')).toHaveLength(1);
    expect(application.disbursements).toEqual([{ paymentRef: 'KBNN-2024-000123', amount: 30_000_000, paidAt: '2024-06-03T10:15:00+07:00' }]);
    expect(application).toMatchObject({ disbursedAmount: 30_000_000, paymentStatus: 'partial' });
    expect(consumer.status()).toEqual({ running: true, applied: 5, deadLettered: 0, lastError: null });
    const [event] = (await store.readStream(`application-${id}`)).filter((e) => e.type === 'FundsDisbursed');
    expect(event.metadata).toMatchObject({ actorId: 'treasury', role: 'finance', correlationId: 'payment:KBNN-2024-000123' });
    expect(event.metadata.causationId).toMatch(new RegExp(`^kafka:${topics.payments.replace(/\./g, '\\.')}/\\d+/\\d+$`));
  }, 60_000);

  it('sends messages it cannot apply to the dead-letter topic with their reason, and goes on to the next', async () => {
    const approved = await workflow.approved();
    const onlySubmitted = await workflow.submitted();
    const consumer = await startConsumer();
    const poison = [
      '{"paymentRef": "KBNN-1", "applicationId": ',
      JSON.stringify({ paymentRef: 'KBNN-2', applicationId: approved, amount: '30000000', paidAt: 'yesterday' }),
      JSON.stringify(confirmation(randomUUID(), 'KBNN-3')),
      JSON.stringify(confirmation(approved, 'KBNN-4', 150_000_000)),
      JSON.stringify(confirmation(onlySubmitted, 'KBNN-5')),
    ];
    // One key, so one partition: the good message really comes after the poison.
    await publish('treasury-batch-7', ...poison, confirmation(approved, 'KBNN-6'));
    await waitFor('six messages handled', () => handled(consumer) === 6, 30_000);

    const dead = await consumeUntil(kafka, topics.paymentsDeadLetter, (m) => m.length >= 5, 30_000);
    expect(dead.map((m) => m.value)).toEqual(poison);
    expect(dead.map((m) => m.key)).toEqual(Array(5).fill('treasury-batch-7'));
    expect(dead.map((m) => m.headers[DLQ_HEADERS.code])).toEqual(['malformed_json', 'invalid_message', 'not_found', 'business_rule', 'invalid_transition']);
    const reasons = dead.map((m) => m.headers[DLQ_HEADERS.reason]);
    expect(reasons[0]).toMatch(/^The message is not JSON/);
    expect(reasons[1]).toBe(
      'amount must be a whole number of VND greater than 0 (a JSON integer); paidAt must be an ISO 8601 date (2024-05-06) or date-time with a time zone (2024-05-06T09:30:00+07:00)',
    );
    expect(reasons[2]).toBe('Application not found');
    expect(reasons[3]).toMatch(/^Over-disbursement/);
    expect(reasons[4]).toMatch(/^Cannot disburse funds to an application that is submitted/);
    const offsets = dead.map((m) => Number(m.headers[DLQ_HEADERS.offset]));
    expect(offsets).toEqual([offsets[0], offsets[0] + 1, offsets[0] + 2, offsets[0] + 3, offsets[0] + 4]);
    for (const message of dead) {
      expect(message.headers[DLQ_HEADERS.topic]).toBe(topics.payments);
      expect(message.headers[DLQ_HEADERS.partition]).toMatch(/^[0-2]$/);
    }

    expect((await workflow.application(approved)).application.disbursements.map((d) => d.paymentRef)).toEqual(['KBNN-6']);
    expect((await workflow.application(onlySubmitted)).application.disbursements).toEqual([]);
    expect(consumer.status()).toMatchObject({ applied: 1, deadLettered: 5 });
  }, 60_000);

  it('retries an infrastructure failure without dead-lettering or skipping, then applies in order', async () => {
    const id = await workflow.approved();
    let failuresLeft = 3;
    const flakyStore: DisbursementCommands = {
      execute: async (command) => {
        if (failuresLeft-- > 0) throw new Error('connect ECONNREFUSED 10.0.0.5:5432');
        return workflow.transitions.execute(command);
      },
    };
    const consumer = await startConsumer(flakyStore);
    await publish(id, confirmation(id, 'KBNN-A', 10_000_000), confirmation(id, 'KBNN-B', 20_000_000));
    await waitFor('both applied', () => consumer.status().applied === 2, 30_000);

    expect((await workflow.application(id)).application.disbursements.map((d) => d.paymentRef)).toEqual(['KBNN-A', 'KBNN-B']);
    expect(consumer.status()).toMatchObject({ deadLettered: 0, lastError: null });
    expect(logger.entries.filter((line) => line.includes('not applied yet; retrying'))).toHaveLength(3);
  }, 60_000);

  it('resumes after a restart in the same group: everything applied, nothing twice', async () => {
    const id = await workflow.approved();
    const first = await startConsumer();
    await publish(id, ...['R1', 'R2', 'R3'].map((ref) => confirmation(id, ref, 5_000_000)));
    await waitFor('the first three', () => first.status().applied === 3, 30_000);
    await first.stop();

    await publish(id, ...['R4', 'R5', 'R6'].map((ref) => confirmation(id, ref, 5_000_000)));
    await new Promise((r) => setTimeout(r, 500));
    expect((await workflow.application(id)).application.disbursements).toHaveLength(3);

    const second = await startConsumer();
    await waitFor('the next three', () => second.status().applied === 3, 30_000);
    await new Promise((r) => setTimeout(r, 500)); // room for a wrong redelivery to show up
    expect(second.status().applied).toBe(3);
    const { application, eventTypes } = await workflow.application(id);
    expect(application.disbursements.map((d) => d.paymentRef)).toEqual(['R1', 'R2', 'R3', 'R4', 'R5', 'R6']);
    expect(eventTypes.filter((type) => type === 'FundsDisbursed')).toHaveLength(6);
    expect(application.disbursedAmount).toBe(30_000_000);
  }, 60_000);
});
