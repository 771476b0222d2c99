import { describeWithPostgres } from '../support/services';
import { startTestApp, TestApp } from '../support/test-app';
import { Scenario, scenario } from './support/scenario';

/**
 * Retries and races (issue 9, item 7): finance retrying a payment, Kafka redelivering it,
 * reviewers racing on one revision — all at once, twenty deep, on PostgreSQL.
 */
describeWithPostgres('Retries and races on PostgreSQL', () => {
  let t: TestApp;
  let s: Scenario;
  let programmeId: string;

  beforeAll(async () => {
    t = await startTestApp('postgres', { env: { RATE_LIMIT_PER_MINUTE: '0' } });
    s = await scenario(t);
    programmeId = await s.openProgramme();
  }, 60_000);

  afterAll(async () => t?.close(), 30_000);

  const typesOf = async (id: string) => {
    const res = await s.get(`/applications/${id}/history`, s.tokens.inspector).expect(200);
    return res.body.events.map((e: { type: string }) => e.type) as string[];
  };
  const count = (types: string[], type: string) => types.filter((x) => x === type).length;
  const twenty = <T>(send: (i: number) => Promise<T>) => Promise.all(Array.from({ length: 20 }, (_, i) => send(i)));

  it('the same disbursement 20 times at once with one Idempotency-Key pays once; every answer is the first', async () => {
    const id = await s.submit(programmeId);
    await s.advance(id, 'approved');
    const body = { paymentRef: 'KBNN-RACE-KEY', amount: 100_000_000, paidAt: '2024-06-01' };
    const answers = await twenty(() => s.post(`/applications/${id}/disbursements`, s.tokens.finance, body, { 'Idempotency-Key': `pay-${id}` }));

    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    for (const answer of answers) expect(answer.body).toEqual(answers[0].body);
    expect(answers.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(19);
    expect(count(await typesOf(id), 'FundsDisbursed')).toBe(1);
  }, 60_000);

  it('the same disbursement 20 times at once with one payment reference and no key pays once', async () => {
    const id = await s.submit(programmeId);
    await s.advance(id, 'approved');
    const body = { paymentRef: 'KBNN-RACE-REF', amount: 100_000_000, paidAt: '2024-06-01' };
    const answers = await twenty(() => s.post(`/applications/${id}/disbursements`, s.tokens.finance, body));

    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(count(await typesOf(id), 'FundsDisbursed')).toBe(1);
    const state = await s.get(`/applications/${id}`, s.tokens.finance).expect(200);
    expect(state.body).toMatchObject({ disbursedAmount: 100_000_000, paymentStatus: 'partial' });
  }, 60_000);

  it('20 reviews at once on one revision with If-Match: exactly one wins, the rest are 412', async () => {
    const id = await s.submit(programmeId);
    const reviewers = await Promise.all(Array.from({ length: 20 }, (_, i) => t.token('reviewer', `reviewer-race-${i}`)));
    const answers = await twenty((i) => s.post(`/applications/${id}/reviews`, reviewers[i], { score: 50 + i, recommendation: 'approve' }, { 'If-Match': '"0"' }));

    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([200, ...Array(19).fill(412)]);
    for (const refused of answers.filter((r) => r.status === 412)) {
      expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    }
    const types = await typesOf(id);
    expect(types).toEqual(['ApplicationSubmitted', 'ApplicationReviewed']);
  }, 60_000);

  it('the same approval 20 times at once commits the budget once and records one decision', async () => {
    const id = await s.submit(programmeId);
    await s.advance(id, 'reviewed');
    const decision = { decisionNumber: '77/QĐ-UBND', decisionDate: '2024-05-02', approvedAmount: 300_000_000 };
    const answers = await twenty(() => s.post(`/applications/${id}/approval`, s.tokens.committee, decision));

    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(count(await typesOf(id), 'ApplicationApproved')).toBe(1);
    const programme = await s.get(`/programmes/${programmeId}/history`, s.tokens.inspector).expect(200);
    const commitments = programme.body.events.filter((e: { type: string; data: { applicationId?: string } }) => e.type === 'BudgetCommitted' && e.data.applicationId === id);
    expect(commitments).toHaveLength(1);
  }, 60_000);
});
