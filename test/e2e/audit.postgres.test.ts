import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { auditVerify } from '../../scripts/audit-verify';
import { describeWithPostgres, POSTGRES_URL } from '../support/services';
import { startTestApp, TestApp } from '../support/test-app';
import { Scenario, scenario } from './support/scenario';

const ROOT = resolve(__dirname, '../..');

/**
 * Issue 9, "Audit": tamper evidence down to the stored row, the programme's budget as it stood
 * on a date, the inspector's dossier, and reviewer recusal — over HTTP on PostgreSQL.
 */
describeWithPostgres('Inspector-grade audit on PostgreSQL', () => {
  let t: TestApp;
  let s: Scenario;
  let db: Client;

  beforeAll(async () => {
    t = await startTestApp('postgres', { env: { RATE_LIMIT_PER_MINUTE: '0' } });
    s = await scenario(t);
    db = new Client({ connectionString: POSTGRES_URL });
    await db.connect();
  }, 60_000);

  afterAll(async () => {
    await db?.end();
    await t?.close();
  }, 30_000);

  const storeEnv = () => ({
    EVENT_STORE: 'postgres',
    EVENT_STORE_URL: POSTGRES_URL,
    EVENT_STORE_SCHEMA: t.schemas!.eventStore,
    READ_MODEL_SCHEMA: t.schemas!.readModels,
    LOG_LEVEL: 'silent',
  });

  /** What an insider with database access would do: rewrite a stored event in place. */
  const tamper = (streamId: string, revision: number, path: string, value: unknown) =>
    db.query(`UPDATE "${t.schemas!.eventStore}".events SET data = jsonb_set(data, $1::text[], $2::jsonb) WHERE stream_id = $3 AND stream_revision = $4`, [
      `{${path}}`,
      JSON.stringify(value),
      streamId,
      revision,
    ]);

  it('names the first altered revision of an application and of a programme; audit:verify exits non-zero', async () => {
    const programmeId = await s.openProgramme();
    const id = await s.submit(programmeId);
    await s.advance(id, 'paid');
    const { inspector } = s.tokens;
    await s.get(`/applications/${id}/integrity`, inspector).expect(200, { valid: true, events: 4 });
    expect(await auditVerify(storeEnv(), () => undefined)).toBe(0);

    // The payment (revision 3) now claims less was paid than the treasury paid out.
    const altered = await tamper(`application-${id}`, 3, 'amount', 1_000);
    expect(altered.rowCount).toBe(1);
    await s.get(`/applications/${id}/integrity`, inspector).expect(200, { valid: false, events: 4, firstBrokenRevision: 3 });

    // The programme's allocation (revision 1, BudgetAllocated) doubled after the fact.
    await tamper(`programme-${programmeId}`, 1, 'amount', 6_000_000_000);
    const programme = await s.get(`/programmes/${programmeId}/integrity`, inspector).expect(200);
    expect(programme.body).toMatchObject({ valid: false, firstBrokenRevision: 1 });

    const lines: string[] = [];
    expect(await auditVerify(storeEnv(), (line) => lines.push(line))).toBe(1);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^BROKEN application-${id}: first broken revision 3`)),
        expect.stringMatching(new RegExp(`^BROKEN programme-${programmeId}: first broken revision 1`)),
      ]),
    );

    // And the command itself, as operators run it: compiled, exit status 1.
    if (!existsSync(join(ROOT, 'dist/scripts/audit-verify.js'))) execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT });
    const run = spawnSync(process.execPath, ['dist/scripts/audit-verify.js'], { cwd: ROOT, env: { ...process.env, ...storeEnv() }, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(`BROKEN application-${id}: first broken revision 3`);
  }, 60_000);

  it('shows a programme’s budget as it stood on a given date', async () => {
    const programmeId = await s.openProgramme(1_000_000_000);
    const first = await s.submit(programmeId);
    const second = await s.submit(programmeId);
    await s.advance(first, 'approved');
    const { inspector } = s.tokens;
    const afterFirst = await s.get(`/programmes/${programmeId}/history`, inspector).expect(200);
    const firstCommittedAt: string = afterFirst.body.events.at(-1).metadata.at;
    await new Promise((r) => setTimeout(r, 20)); // a later moment for the second decision
    await s.advance(second, 'approved');

    const budgetOf = (body: { state: { budget: Array<{ category: string }> } }) =>
      body.state.budget.find((c) => c.category === 'advanced_equipment');
    const then = await s.get(`/programmes/${programmeId}/history?asOf=${encodeURIComponent(firstCommittedAt)}`, inspector).expect(200);
    expect(budgetOf(then.body)).toEqual({ category: 'advanced_equipment', allocated: 1_000_000_000, committed: 300_000_000, available: 700_000_000 });
    const before = await s.get(`/programmes/${programmeId}/history?asOf=${encodeURIComponent(new Date(Date.parse(firstCommittedAt) - 1).toISOString())}`, inspector).expect(200);
    expect(budgetOf(before.body)).toMatchObject({ committed: 0, available: 1_000_000_000 });
    const now = await s.get(`/programmes/${programmeId}/history`, inspector).expect(200);
    expect(budgetOf(now.body)).toMatchObject({ committed: 600_000_000, available: 400_000_000 });
    // By revision as well: revisions 0–3 are the opening (ProgrammeOpened, two allocations, targets).
    const opened = await s.get(`/programmes/${programmeId}/history?revision=3`, inspector).expect(200);
    expect(budgetOf(opened.body)).toMatchObject({ committed: 0 });
  }, 60_000);

  it('pages the history on request; the state comes from a snapshot only while it matches the stored events', async () => {
    const programmeId = await s.openProgramme();
    const id = await s.submit(programmeId);
    await s.advance(id, 'approved');
    const { inspector, finance } = s.tokens;
    // 105 tranches: revisions 3–107, so the commands write a snapshot at revision 99.
    for (let i = 0; i < 105; i++) {
      await s.post(`/applications/${id}/disbursements`, finance, { paymentRef: `KBNN-PAGE-${i}`, amount: 1_000_000, paidAt: '2024-06-01' }).expect(200);
    }
    const full = await s.get(`/applications/${id}/history?revision=104`, inspector).expect(200);
    expect(full.body.events).toHaveLength(105);
    expect(full.body).not.toHaveProperty('eventsPage');
    expect(full.body.state).toMatchObject({ revision: 104, disbursedAmount: 102_000_000 });

    const page = await s.get(`/applications/${id}/history?revision=104&eventsLimit=10`, inspector).expect(200);
    expect(page.body.state).toEqual(full.body.state);
    expect(page.body.events).toEqual(full.body.events.slice(-10));
    expect(page.body.eventsPage).toEqual({ limit: 10, nextCursor: '95' });
    const older = await s.get(`/applications/${id}/history?revision=104&eventsLimit=10&eventsCursor=95`, inspector).expect(200);
    expect(older.body.events).toEqual(full.body.events.slice(-20, -10));

    // An insider rewrites the snapshot: the answer is still the stored events' own.
    const rewritten = await db.query(
      `UPDATE "${t.schemas!.eventStore}".snapshots SET state = replace(state, '"disbursedAmount":97000000', '"disbursedAmount":1') WHERE stream_id = $1`,
      [`application-${id}`],
    );
    expect(rewritten.rowCount).toBeGreaterThan(0);
    const afterTampering = await s.get(`/applications/${id}/history?revision=104&eventsLimit=10`, inspector).expect(200);
    expect(afterTampering.body.state).toEqual(full.body.state);

    // audit:verify folds the stream and names the rewritten snapshot (the earlier test's
    // tampered events make it exit 1 in any case, so the line is what shows it).
    await db.query(
      `UPDATE "${t.schemas!.eventStore}".snapshots SET state = replace(state, '"disbursedAmount":97000000', '"disbursedAmount":1') WHERE stream_id = $1`,
      [`application-${id}`],
    );
    const lines: string[] = [];
    expect(await auditVerify(storeEnv(), (line) => lines.push(line))).toBe(1);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^FALSE SNAPSHOT application-${id} at revision 99 `)));

    for (const bad of ['eventsLimit=0', 'eventsLimit=1001', 'eventsLimit=ten', 'eventsCursor=95', 'eventsLimit=5&eventsCursor=abc']) {
      const refused = await s.get(`/applications/${id}/history?${bad}`, inspector).expect(400);
      expect(refused.headers['content-type']).toMatch(/problem\+json/);
    }
  }, 120_000);

  describe('the dossier', () => {
    let id: string;
    const hostile = 'Dây chuyền <script>alert("x")</script> & "mẫu" — Làng nghề Phú Vinh';

    beforeAll(async () => {
      const programmeId = await s.openProgramme();
      id = await s.submit(programmeId, { description: hostile });
      await s.advance(id, 'evaluated');
    }, 60_000);

    it('JSON: the application, each decision and payment, the evaluation, the attributed history, the verdict', async () => {
      const res = await s.get(`/applications/${id}/dossier`, s.tokens.inspector).set('Accept', 'application/json').expect(200);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      const d = res.body;
      expect(d.application).toMatchObject({ id, status: 'evaluated', approvedAmount: 300_000_000, disbursedAmount: 210_000_000 });
      expect(d.application.project.description).toBe(hostile);
      expect(d.programme).toMatchObject({ name: 'Kế hoạch khuyến công 2024', year: 2024 });
      expect(d.decisions).toEqual([
        expect.objectContaining({ outcome: 'approved', decisionNumber: '1234/QĐ-UBND', decisionDate: '2024-05-02', approvedAmount: 300_000_000, actorId: 'committee-1', role: 'committee', revision: 2 }),
      ]);
      expect(d.payments).toEqual([expect.objectContaining({ paymentRef: `KBNN-${id.slice(0, 8)}-1`, amount: 210_000_000, paidAt: '2024-06-01', actorId: 'finance-1', role: 'finance' })]);
      expect(d.evaluation).toMatchObject({ rating: 'achieved', actorId: 'reviewer-1', role: 'reviewer' });
      expect(d.reviews).toEqual([expect.objectContaining({ score: 85, actorId: 'reviewer-1' })]);
      expect(d.budget).toEqual([expect.objectContaining({ type: 'BudgetCommitted', amount: 300_000_000, actorId: 'committee-1' })]);
      expect(d.history.map((h: { type: string }) => h.type)).toEqual([
        'ApplicationSubmitted',
        'ApplicationReviewed',
        'ApplicationApproved',
        'FundsDisbursed',
        'OutcomeEvaluated',
      ]);
      for (const h of d.history) expect(h.metadata).toEqual(expect.objectContaining({ actorId: expect.any(String), role: expect.any(String), at: expect.any(String) }));
      expect(d.integrity).toMatchObject({ valid: true, application: { valid: true, events: 5 } });
    });

    it('as it stood at a revision: before any payment', async () => {
      const res = await s.get(`/applications/${id}/dossier?revision=2`, s.tokens.admin).expect(200);
      expect(res.body).toMatchObject({ revision: 2, application: { status: 'approved', disbursedAmount: 0 }, payments: [] });
      expect(res.body.history).toHaveLength(3);
    });

    it('printable HTML: server-rendered, escaped, Vietnamese intact, print CSS', async () => {
      const res = await s.get(`/applications/${id}/dossier`, s.tokens.inspector).set('Accept', 'text/html').expect(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
      const html = res.text;
      expect(html).toMatch(/^<!DOCTYPE html>/);
      expect(html).toContain('<meta charset="utf-8">');
      expect(html).toContain('HTX Mây tre đan Phú Vinh');
      expect(html).toContain('1234/QĐ-UBND');
      expect(html).toContain(`KBNN-${id.slice(0, 8)}-1`);
      expect(html).toContain('300.000.000 ₫');
      expect(html).toContain('@media print');
      expect(html).not.toContain('<script');
      expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;mẫu&quot;');
      expect(html).toContain('committee-1, committee');
      expect(html).toContain('Chuỗi băm toàn vẹn');
    });

    it('is for inspectors and admins only', async () => {
      for (const role of ['applicant', 'reviewer', 'committee', 'finance'] as const) {
        await s.get(`/applications/${id}/dossier`, s.tokens[role]).expect(403);
      }
      await s.get('/applications/unknown-id/dossier', s.tokens.inspector).expect(404);
    });
  });

  it('recusal: the recused reviewer’s review and evaluation are refused with the reason; the recusal is in the history', async () => {
    const programmeId = await s.openProgramme();
    const id = await s.submit(programmeId);
    const recused = await t.token('reviewer', 'reviewer-2');
    await s.post(`/applications/${id}/recusals`, recused, { reason: 'Người thân làm việc tại HTX' }).expect(200);

    const before = await s.eventCount(id);
    const refused = await s.post(`/applications/${id}/reviews`, recused, { score: 90, recommendation: 'approve' }).expect(403);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(refused.body.detail).toMatch(/recused yourself.*conflict of interest: Người thân làm việc tại HTX/);
    await s.post(`/applications/${id}/revision-requests`, recused, { reason: 'x' }).expect(403);
    expect(await s.eventCount(id)).toBe(before);

    // Another reviewer appraises; the committee approves; the recused reviewer may not evaluate.
    await s.advance(id, 'approved');
    await s.post(`/applications/${id}/evaluation`, recused, { outcomes: { jobs_created: 1 }, rating: 'achieved' }).expect(403);

    const history = await s.get(`/applications/${id}/history`, s.tokens.inspector).expect(200);
    expect(history.body.events[1]).toMatchObject({
      type: 'ReviewerRecused',
      data: { reviewerId: 'reviewer-2', reason: 'Người thân làm việc tại HTX' },
      metadata: { actorId: 'reviewer-2', role: 'reviewer' },
    });
    expect(history.body.events.map((e: { type: string }) => e.type)).not.toContain('OutcomeEvaluated');
  }, 60_000);
});
