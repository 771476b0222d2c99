import pino from 'pino';
import { Writable } from 'node:stream';
import { JwtVerifier } from '@kcflow/auth';
import { describeWithPostgres } from '../support/services';
import { startTestApp, TestApp } from '../support/test-app';
import { Scenario, scenario } from './support/scenario';

/** Every line the application logs, kept for the assertions (JSON lines, as in production). */
function capturedLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines, records: () => lines.map((line) => JSON.parse(line)) };
}

/**
 * The front door (issue 9, item 9): security headers, the body size limit, the rate limit
 * per actor, and the audit log of refused requests — without tokens or personal data.
 */
describeWithPostgres('Front door hardening on PostgreSQL', () => {
  describe('headers, body limit and the refusal log (rate limit off)', () => {
    let t: TestApp;
    let s: Scenario;
    const log = capturedLogger();

    beforeAll(async () => {
      t = await startTestApp('postgres', { env: { RATE_LIMIT_PER_MINUTE: '0', BODY_LIMIT_BYTES: '2048' }, logger: log.logger });
      s = await scenario(t);
    }, 60_000);

    afterAll(async () => t?.close(), 30_000);

    it('answers with helmet’s security headers', async () => {
      const res = await t.http().get('/health/live').expect(200);
      expect(res.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
        'strict-transport-security': expect.stringContaining('max-age='),
        'referrer-policy': 'no-referrer',
        'cross-origin-opener-policy': 'same-origin',
        'x-dns-prefetch-control': 'off',
      });
      expect(res.headers['x-powered-by']).toBeUndefined();
    });

    it('refuses a body over BODY_LIMIT_BYTES with 413, as a problem', async () => {
      const programmeId = await s.openProgramme();
      const big = await s.post('/applications', s.tokens.applicant, { programmeId, category: 'advanced_equipment', padding: 'x'.repeat(3000) }).expect(413);
      expect(big.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(big.body).toMatchObject({ status: 413, type: expect.stringMatching(/payload-too-large$/) });
      // Under the limit it is read (and refused for what it says, not for its size).
      await s.post('/applications', s.tokens.applicant, { programmeId, padding: 'x'.repeat(1000) }).expect(400);
    });

    it('logs each refused request — who, what, why — and never the token or the body', async () => {
      const programmeId = await s.openProgramme();
      const id = await s.submit(programmeId);
      log.lines.length = 0;

      // 403: a finance officer tries to approve, with personal data in the body.
      await s.post(`/applications/${id}/approval`, s.tokens.finance, { decisionNumber: '1/QĐ', decisionDate: '2024-05-02', approvedAmount: 1, taxCode: '0109999999' }).expect(403);
      // 401: a token with a wrong signature.
      const forged = `${s.tokens.admin.slice(0, -4)}AAAA`;
      await t.http().get(`/applications/${id}`).set('Authorization', `Bearer ${forged}`).expect(401);
      // 409: a step the lifecycle does not allow.
      await s.post(`/applications/${id}/closure`, s.tokens.admin, {}).expect(409);
      // 412: a stale If-Match. A search holding an applicant's name is never logged either.
      await s.post(`/applications/${id}/withdrawal`, s.tokens.applicant, { reason: 'x' }, { 'If-Match': '"7"' }).expect(412);
      // A 200 is not a refusal.
      await s.get(`/applications?search=${encodeURIComponent('HTX Mây tre đan')}`, s.tokens.admin).expect(200);

      const refused = log.records().filter((r) => r.audit === 'request-refused');
      expect(refused).toEqual([
        expect.objectContaining({ actorId: 'finance-1', roles: ['finance'], method: 'POST', route: '/applications/:id/approval', status: 403, problemType: expect.stringMatching(/forbidden$/), detail: expect.stringContaining('applications.approve') }),
        expect.objectContaining({ actorId: null, method: 'GET', route: '/applications/:id', status: 401, problemType: expect.stringMatching(/unauthenticated$/) }),
        expect.objectContaining({ actorId: 'admin-1', method: 'POST', route: '/applications/:id/closure', status: 409, detail: expect.stringMatching(/Cannot close/) }),
        expect.objectContaining({ actorId: 'htx-phu-vinh', method: 'POST', route: '/applications/:id/withdrawal', status: 412 }),
      ]);
      const everything = log.lines.join('\n');
      for (const secret of [s.tokens.finance, forged, s.tokens.admin, s.tokens.applicant]) expect(everything).not.toContain(secret);
      expect(everything).not.toContain(forged.split('.')[1]); // not even the claims part
      expect(everything).not.toContain('0109999999');
      expect(everything).not.toContain('Mây tre');
      expect(everything).not.toContain(encodeURIComponent('Mây tre'));
    }, 30_000);
  });

  describe('rate limit per actor (RATE_LIMIT_PER_MINUTE=5)', () => {
    let t: TestApp;
    const log = capturedLogger();

    beforeAll(async () => {
      t = await startTestApp('postgres', { env: { RATE_LIMIT_PER_MINUTE: '5' }, logger: log.logger });
    }, 60_000);

    afterAll(async () => t?.close(), 30_000);

    it('answers the 6th request of an actor in a minute with a 429 problem; other actors, health and docs go on', async () => {
      const busy = await t.token('committee', 'committee-busy');
      const other = await t.token('committee', 'committee-other');
      const get = (token: string) => t.http().get('/applications').set('Authorization', `Bearer ${token}`);
      for (let i = 0; i < 5; i++) await get(busy).expect(200);

      const limited = await get(busy).expect(429);
      expect(limited.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(limited.body).toMatchObject({ status: 429, type: expect.stringMatching(/too-many-requests$/) });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);

      await get(other).expect(200);
      for (let i = 0; i < 10; i++) await t.http().get('/health/live').expect(200);
      await t.http().get('/docs-json').expect(200);

      expect(log.records().filter((r) => r.audit === 'request-refused')).toEqual([
        expect.objectContaining({ actorId: 'committee-busy', method: 'GET', route: '/applications', status: 429 }),
      ]);
      expect(log.lines.join('\n')).not.toContain(busy);
    });

    it('verifies a bearer token once per request: the guard reuses the rate limiter\'s verdict', async () => {
      const verifier = t.nest!.get(JwtVerifier) as unknown as { verifyToken(token: string): Promise<unknown> };
      const verifications = jest.spyOn(verifier, 'verifyToken');
      try {
        const token = await t.token('finance', 'finance-once');
        await t.http().get('/applications').set('Authorization', `Bearer ${token}`).expect(200);
        await t.http().get('/applications').set('Authorization', `Bearer ${token}`).expect(200);
        expect(verifications).toHaveBeenCalledTimes(2);
      } finally {
        verifications.mockRestore();
      }
    });

    it('counts callers without a valid token by address, so forged tokens earn no fresh budget', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        const forged = `${(await t.token('admin', `forger-${i}`)).slice(0, -4)}AAAA`;
        const response = await t.http().get('/applications').set('Authorization', `Bearer ${forged}`);
        expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
        statuses.push(response.status);
      }
      expect(statuses.slice(0, 5)).toEqual(Array(5).fill(401));
      expect(statuses.slice(5)).toEqual([429, 429]);
    });
  });
});
