import { Kafka, logLevel } from 'kafkajs';
import { describeWithKafka, KAFKA_BROKERS } from '../support/services';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Issue 5's "done when", as a user would see it: with KAFKA_BROKERS set, the embedded
 * server relays its events to Kafka, and a treasury confirmation published to Kafka becomes
 * a disbursement in GET /applications/:id and in the budget — once, however often it comes.
 */
describeWithKafka('KCFlow with Kafka on the embedded default', () => {
  let t: TestApp;
  const kafka = new Kafka({ clientId: 'kcflow-e2e', brokers: KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
  const producer = kafka.producer();

  beforeAll(async () => {
    t = await startTestApp('pglite', { env: { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: '1' } });
    await producer.connect();
  }, 90_000);

  afterAll(async () => {
    await producer.disconnect();
    await t?.close();
  }, 30_000);

  async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (done(value) || Date.now() > deadline) return value;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it('a payment confirmation from the treasury becomes one disbursement; the events reach kcflow.applications.v1', async () => {
    const [admin, applicant, reviewer, committee, finance] = await Promise.all(
      (['admin', 'applicant', 'reviewer', 'committee', 'finance'] as const).map((role) => t.token(role)),
    );
    const programmeId = `KAFKA-${Date.now()}`;
    await t
      .http()
      .post('/programmes')
      .set('Authorization', `Bearer ${admin}`)
      .send({ id: programmeId, name: 'Kafka', year: 2024, fundingSource: 'city', allocations: { product_design: 500_000_000 } })
      .expect(201);
    const submitted = await t
      .http()
      .post('/applications')
      .set('Authorization', `Bearer ${applicant}`)
      .send({
        programmeId,
        category: 'product_design',
        applicant: { name: 'Cơ sở gốm Bát Tràng', taxCode: '0109876543', kind: 'household', district: 'Gia Lâm', commune: 'Bát Tràng' },
        project: { title: 'Mẫu gốm mới', description: 'Thiết kế 20 mẫu', totalCost: 100_000_000, requestedAmount: 80_000_000, expectedOutcomes: { new_designs: 20 } },
      })
      .expect(201);
    const id: string = submitted.body.id;
    await t.http().post(`/applications/${id}/reviews`).set('Authorization', `Bearer ${reviewer}`).send({ score: 80, recommendation: 'approve' }).expect(200);
    await t
      .http()
      .post(`/applications/${id}/approval`)
      .set('Authorization', `Bearer ${committee}`)
      .send({ decisionNumber: '77/QĐ-UBND', decisionDate: '2024-05-02', approvedAmount: 80_000_000 })
      .expect(200);

    const confirmation = { paymentRef: `KBNN-KAFKA-${Date.now()}`, applicationId: id, amount: 56_000_000, paidAt: '2024-06-01' };
    for (let i = 0; i < 3; i++) {
      await producer.send({ topic: 'treasury.payments.v1', messages: [{ key: id, value: JSON.stringify(confirmation) }] });
    }
    const paid = await eventually(
      async () => (await t.http().get(`/applications/${id}`).set('Authorization', `Bearer ${finance}`).expect(200)).body,
      (body) => body.disbursements.length > 0,
    );
    expect(paid.disbursements).toEqual([{ paymentRef: confirmation.paymentRef, amount: 56_000_000, paidAt: '2024-06-01' }]);
    expect(paid.paymentStatus).toBe('partial');

    await t.settle();
    const budget = await t.http().get(`/programmes/${programmeId}/budget`).set('Authorization', `Bearer ${finance}`).expect(200);
    expect(budget.body.categories[0]).toMatchObject({ category: 'product_design', committed: 80_000_000, disbursed: 56_000_000 });

    // The redeliveries had time to arrive: still one payment.
    await new Promise((r) => setTimeout(r, 1500));
    const again = await t.http().get(`/applications/${id}`).set('Authorization', `Bearer ${finance}`).expect(200);
    expect(again.body.disbursements).toHaveLength(1);

    // And the relay published the application's integration events, keyed by its id.
    const seen: string[] = [];
    const consumer = kafka.consumer({ groupId: `kcflow-e2e-${Date.now()}` });
    await consumer.connect();
    await consumer.subscribe({ topic: 'kcflow.applications.v1', fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.key?.toString() === id) seen.push(JSON.parse(message.value!.toString()).type);
      },
    });
    await eventually(async () => seen, (types) => types.includes('kcflow.application.funds_disbursed.v1'));
    await consumer.disconnect();
    expect(seen).toEqual([
      'kcflow.application.submitted.v1',
      'kcflow.application.reviewed.v1',
      'kcflow.application.approved.v1',
      'kcflow.application.funds_disbursed.v1',
    ]);
  }, 120_000);
});
