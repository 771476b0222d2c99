import { request as httpRequest, type ServerResponse } from 'node:http';
import { PgDatabase, quoteSchema } from '@kcflow/sql';
import { describeWithPostgres, POSTGRES_URL } from '../support/services';
import { startTestApp, waitFor, type TestApp } from '../support/test-app';
import { applicationBody, scenario, type Scenario } from './support/scenario';

/**
 * Idempotency-Key beyond what the lifecycle and race suites show: what a replay carries,
 * which answers release a key, the requests it leaves alone, and a client that disconnects
 * while its command runs. The key's row is read from the database where the answer alone
 * cannot tell a released key from a completed one.
 */
describeWithPostgres('Idempotency-Key on PostgreSQL', () => {
  let t: TestApp;
  let s: Scenario;
  let db: PgDatabase;
  let programmeId: string;
  let baseUrl: string;

  beforeAll(async () => {
    t = await startTestApp('postgres');
    s = await scenario(t);
    programmeId = await s.openProgramme();
    db = new PgDatabase(POSTGRES_URL, 2);
    // Listening, for the raw connection the disconnect tests drop (supertest uses it too).
    await t.nest!.listen(0, '127.0.0.1');
    baseUrl = await t.nest!.getUrl();
  }, 60_000);

  afterAll(async () => {
    await db?.close();
    await t?.close();
  }, 30_000);

  /** The key's stored status: undefined when it is free, null while in progress. */
  async function keyStatus(actorId: string, key: string): Promise<number | null | undefined> {
    const [row] = await db.query<{ status_code: number | null }>(
      `SELECT status_code FROM ${quoteSchema(t.schemas!.readModels)}.idempotency_keys WHERE actor_id = $1 AND key = $2`,
      [actorId, key],
    );
    return row?.status_code;
  }

  const disbursements = async (id: string) => {
    const res = await s.get(`/applications/${id}/history`, s.tokens.inspector).expect(200);
    return res.body.events.filter((e: { type: string }) => e.type === 'FundsDisbursed').length;
  };

  it('a replay answers with the first status, body, ETag and Location, marked Idempotent-Replayed', async () => {
    const key = { 'Idempotency-Key': `submit-${Date.now()}` };
    const first = await s.post('/applications', s.tokens.applicant, applicationBody(programmeId), key).expect(201);
    const again = await s.post('/applications', s.tokens.applicant, applicationBody(programmeId), key).expect(201);

    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(again.headers['idempotent-replayed']).toBe('true');
    // The id is drawn afresh whenever the handler runs: the same id means it did not run again.
    expect(again.body).toEqual(first.body);
    expect(again.headers.location).toBe(`/applications/${first.body.id}`);
    expect(again.headers.etag).toBe(first.headers.etag);
    expect(again.headers['content-type']).toBe(first.headers['content-type']);
    expect(again.text).toBe(first.text); // byte for byte, not re-serialised from jsonb
    expect(await keyStatus('htx-phu-vinh', key['Idempotency-Key'])).toBe(201);

    // A key completed by the version before (its answer in body only, no content-type kept) still replays.
    await db.query(
      `UPDATE ${quoteSchema(t.schemas!.readModels)}.idempotency_keys SET response = NULL, headers = headers - 'content-type' WHERE actor_id = $1 AND key = $2`,
      ['htx-phu-vinh', key['Idempotency-Key']],
    );
    const older = await s.post('/applications', s.tokens.applicant, applicationBody(programmeId), key).expect(201);
    expect(older.body).toEqual(first.body);
    expect(older.headers['content-type']).toBe(first.headers['content-type']);
    expect(older.headers['idempotent-replayed']).toBe('true');

    const reused = await s.post('/applications', s.tokens.applicant, applicationBody(programmeId, 'Another project'), key).expect(422);
    expect(reused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(reused.body).toMatchObject({ type: expect.stringMatching(/\/idempotency-key-reused$/), status: 422 });
  });

  it('a malformed key is a 400 problem and nothing is written; without a token the answer is 401 first', async () => {
    const id = await s.submit(programmeId);
    const review = { score: 80, recommendation: 'approve' };
    for (const malformed of ['has a space', 'x'.repeat(201)]) {
      const res = await s.post(`/applications/${id}/reviews`, s.tokens.reviewer, review, { 'Idempotency-Key': malformed }).expect(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 400, detail: 'Idempotency-Key must be 1–200 visible ASCII characters', instance: `/applications/${id}/reviews` });
    }
    await t.http().post(`/applications/${id}/reviews`).set('Idempotency-Key', 'has a space').send(review).expect(401);
    expect(await s.eventCount(id)).toBe(1);
  });

  it('GET requests ignore the key, even a malformed one', async () => {
    const id = await s.submit(programmeId);
    for (const key of ['has a space', 'read-twice', 'read-twice']) {
      const res = await s.get(`/applications/${id}`, s.tokens.reviewer).set('Idempotency-Key', key).expect(200);
      expect(res.headers['idempotent-replayed']).toBeUndefined();
    }
    expect(await keyStatus('reviewer-1', 'read-twice')).toBeUndefined();
  });

  it('a refusal releases the key: 403 (claimed before the role check) and 409 both leave it free', async () => {
    const id = await s.submit(programmeId);
    const decision = { decisionNumber: '88/QĐ-UBND', decisionDate: '2024-05-02', approvedAmount: 300_000_000 };
    const key = { 'Idempotency-Key': `approve-${id}` };

    await s.post(`/applications/${id}/approval`, s.tokens.finance, decision, key).expect(403);
    expect(await keyStatus('finance-1', key['Idempotency-Key'])).toBeUndefined();

    // Not reviewed yet: refused by the lifecycle, and nothing written, so the key is free again…
    await s.post(`/applications/${id}/approval`, s.tokens.committee, decision, key).expect(409);
    expect(await keyStatus('committee-1', key['Idempotency-Key'])).toBeUndefined();
    // …and the same request with the same key runs once the application is reviewed.
    await s.advance(id, 'reviewed');
    const approved = await s.post(`/applications/${id}/approval`, s.tokens.committee, decision, key).expect(200);
    expect(approved.headers['idempotent-replayed']).toBeUndefined();
    const replayed = await s.post(`/applications/${id}/approval`, s.tokens.committee, decision, key).expect(200);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
  });

  describe('a client that disconnects while its claimed command runs', () => {
    const es = () => quoteSchema(t.schemas!.eventStore);
    const payment = (key: string) => ({ paymentRef: `KBNN-${key}`, amount: 100_000_000, paidAt: '2024-06-01' });

    /**
     * Sends the disbursement over a raw connection while `lock` (run in a transaction first)
     * holds the event store's inserts back, drops the connection once the command waits on
     * that lock, and lets the command go on only after the server has seen the client leave.
     */
    async function disburseAndDisconnect(id: string, key: string, lock: string): Promise<void> {
      await db.transaction(async (tx) => {
        await tx.query(lock);
        const server = t.nest!.getHttpServer();
        const leftUnanswered = new Promise<boolean>((resolve) =>
          server.once('request', (_req: unknown, res: ServerResponse) => res.once('close', () => resolve(!res.writableFinished))),
        );
        const client = httpRequest(`${baseUrl}/applications/${id}/disbursements`, {
          method: 'POST',
          headers: { authorization: `Bearer ${s.tokens.finance}`, 'content-type': 'application/json', 'idempotency-key': key },
        });
        client.on('error', () => undefined); // the socket we destroy below
        client.end(JSON.stringify(payment(key)));
        await waitFor(appendWaitsOnLock, 10_000, () => 'the command never reached the append');
        expect(await keyStatus('finance-1', key)).toBeNull();
        client.destroy();
        expect(await leftUnanswered).toBe(true);
      });
    }

    // Not read in the locking transaction: that would see pg_stat_activity as it was at its first read.
    const appendWaitsOnLock = async () =>
      (
        await db.query(
          `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%append_events%' AND query LIKE $1`,
          [`%${t.schemas!.eventStore}%`],
        )
      ).length > 0;

    const settledKey = async (key: string, status: number | undefined) =>
      waitFor(async () => (await keyStatus('finance-1', key)) === status, 10_000, () => `the key did not end ${status ?? 'released'}`);

    it('the command succeeds: the key is completed, and the retry gets the answer without paying again', async () => {
      const id = await s.submit(programmeId);
      await s.advance(id, 'approved');
      const key = `gone-${id.slice(0, 8)}`;
      await disburseAndDisconnect(id, key, `LOCK TABLE ${es()}.events IN EXCLUSIVE MODE`);

      await settledKey(key, 200);
      const retry = await s.post(`/applications/${id}/disbursements`, s.tokens.finance, payment(key), { 'Idempotency-Key': key }).expect(200);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(await disbursements(id)).toBe(1);
    }, 30_000);

    it('the command fails: the key is released, and the retry runs it', async () => {
      const id = await s.submit(programmeId);
      await s.advance(id, 'approved');
      const key = `fails-${id.slice(0, 8)}`;
      // CREATE TRIGGER holds inserts back until commit; then the waiting append meets the trigger and fails.
      await db.query(`CREATE FUNCTION ${es()}.refuse_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$`);
      try {
        await disburseAndDisconnect(id, key, `CREATE TRIGGER refuse_insert BEFORE INSERT ON ${es()}.events FOR EACH ROW EXECUTE FUNCTION ${es()}.refuse_insert()`);
        await settledKey(key, undefined);
      } finally {
        await db.query(`DROP TRIGGER IF EXISTS refuse_insert ON ${es()}.events`);
      }
      expect(await disbursements(id)).toBe(0);
      const retry = await s.post(`/applications/${id}/disbursements`, s.tokens.finance, payment(key), { 'Idempotency-Key': key }).expect(200);
      expect(retry.headers['idempotent-replayed']).toBeUndefined();
      expect(await disbursements(id)).toBe(1);
    }, 30_000);
  });
});
