import { startTestApp, TestApp, TestStore } from '../support/test-app';

/**
 * One application through its whole life over HTTP, the refusals API.md promises, and
 * invariant 3 under 50 concurrent approvals — run against each real store.
 */
export function describeLifecycle(kind: TestStore): void {
  let t: TestApp;
  let admin: string, applicant: string, otherApplicant: string, reviewer: string, committee: string, finance: string, inspector: string;
  let programmeId: string;

  beforeAll(async () => {
    t = await startTestApp(kind);
    [admin, applicant, otherApplicant, reviewer, committee, finance, inspector] = await Promise.all([
      t.token('admin'),
      t.token('applicant', 'htx-phu-vinh'),
      t.token('applicant', 'someone-else'),
      t.token('reviewer'),
      t.token('committee'),
      t.token('finance'),
      t.token('inspector'),
    ]);
  }, 60_000);

  afterAll(async () => t?.close(), 30_000);

  let programmeCounter = 0;
  async function openProgramme(allocation = 3_000_000_000): Promise<string> {
    const id = `HN-2024-${kind}-${++programmeCounter}`;
    await t
      .http()
      .post('/programmes')
      .set('Authorization', `Bearer ${admin}`)
      .send({
        id,
        name: 'Kế hoạch khuyến công 2024',
        year: 2024,
        fundingSource: 'city',
        allocations: { advanced_equipment: allocation, product_design: 500_000_000 },
        targets: { facilities_equipped: { min: 10, max: 15 }, new_designs: { min: 650, max: 800 } },
      })
      .expect(201);
    return id;
  }

  const application = (programme: string) => ({
    programmeId: programme,
    category: 'advanced_equipment',
    applicant: { name: 'HTX Mây tre đan Phú Vinh', taxCode: '0101234567', kind: 'cooperative', district: 'Chương Mỹ', commune: 'Phú Nghĩa', craftVillage: 'Phú Vinh' },
    project: {
      title: 'Máy chẻ nan tự động',
      description: 'Đầu tư dây chuyền chẻ nan',
      totalCost: 600_000_000,
      requestedAmount: 300_000_000,
      expectedOutcomes: { jobs_created: 12, facilities_equipped: 1 },
    },
  });

  async function submit(programme: string, token = applicant): Promise<string> {
    const res = await t.http().post('/applications').set('Authorization', `Bearer ${token}`).send(application(programme)).expect(201);
    return res.body.id;
  }

  const post = (path: string, token: string, body: object, headers: Record<string, string> = {}) =>
    t.http().post(path).set('Authorization', `Bearer ${token}`).set(headers).send(body);

  async function eventsOf(id: string): Promise<number> {
    const res = await t.http().get(`/applications/${id}/history`).set('Authorization', `Bearer ${inspector}`).expect(200);
    return res.body.events.length;
  }

  beforeAll(async () => {
    programmeId = await openProgramme();
  }, 30_000);

  it('walks an application from submission to closure, and the budget follows', async () => {
    const id = await submit(programmeId);
    const submitted = await t.http().get(`/applications/${id}`).set('Authorization', `Bearer ${applicant}`).expect(200);
    expect(submitted.body).toMatchObject({ id, status: 'submitted', paymentStatus: 'none', revision: 0 });
    expect(submitted.headers.etag).toBe('"0"');

    await post(`/applications/${id}/revision-requests`, reviewer, { reason: 'Thiếu báo giá thiết bị' }).expect(200);
    await post(`/applications/${id}/amendments`, applicant, { project: { ...application(programmeId).project, totalCost: 620_000_000 } })
      .expect(200)
      .expect((r) => expect(r.body.status).toBe('submitted'));
    await post(`/applications/${id}/reviews`, reviewer, { score: 85, recommendation: 'approve', recommendedAmount: 300_000_000 }).expect(200);
    const approved = await post(`/applications/${id}/approval`, committee, {
      decisionNumber: '1234/QĐ-UBND',
      decisionDate: '2024-05-02',
      approvedAmount: 300_000_000,
    }).expect(200);
    expect(approved.body).toMatchObject({ id, status: 'approved', revision: 4 });
    expect(approved.headers.etag).toBe('"4"');

    await t.settle();
    let budget = await t.http().get(`/programmes/${programmeId}/budget`).set('Authorization', `Bearer ${finance}`).expect(200);
    expect(budget.body.categories.find((c: { category: string }) => c.category === 'advanced_equipment')).toMatchObject({
      category: 'advanced_equipment',
      allocated: 3_000_000_000,
      committed: 300_000_000,
      disbursed: 0,
      available: 2_700_000_000,
    });

    await post(`/applications/${id}/disbursements`, finance, { paymentRef: 'KBNN-1', amount: 210_000_000, paidAt: '2024-06-01' }).expect(200);
    // The advance may not exceed 70% before evaluation: nothing is written.
    const before = await eventsOf(id);
    await post(`/applications/${id}/disbursements`, finance, { paymentRef: 'KBNN-2', amount: 1, paidAt: '2024-06-02' })
      .expect(409)
      .expect('content-type', /application\/problem\+json/)
      .expect((r) => expect(r.body.detail).toMatch(/advance limit/));
    expect(await eventsOf(id)).toBe(before);

    await post(`/applications/${id}/evaluation`, reviewer, { outcomes: { jobs_created: 10, facilities_equipped: 1 }, rating: 'achieved' }).expect(200);
    await post(`/applications/${id}/disbursements`, finance, { paymentRef: 'KBNN-3', amount: 50_000_000, paidAt: '2024-09-01' })
      .expect(200)
      .expect((r) => expect(r.body.paymentStatus).toBe('partial'));
    await post(`/applications/${id}/closure`, admin, { reason: 'Quyết toán xong' })
      .expect(200)
      .expect((r) => expect(r.body.status).toBe('closed'));

    const closed = await t.http().get(`/applications/${id}`).set('Authorization', `Bearer ${inspector}`).expect(200);
    expect(closed.body).toMatchObject({ status: 'closed', approvedAmount: 300_000_000, disbursedAmount: 260_000_000, paymentStatus: 'partial' });
    expect(closed.body.disbursements.map((d: { paymentRef: string }) => d.paymentRef)).toEqual(['KBNN-1', 'KBNN-3']);

    // Closure releases what was committed but not paid.
    await t.settle();
    budget = await t.http().get(`/programmes/${programmeId}/budget`).set('Authorization', `Bearer ${finance}`).expect(200);
    expect(budget.body.categories.find((c: { category: string }) => c.category === 'advanced_equipment')).toMatchObject({
      category: 'advanced_equipment',
      allocated: 3_000_000_000,
      committed: 260_000_000,
      disbursed: 260_000_000,
      available: 2_740_000_000,
    });

    // The inspector replays it as it stood after the approval.
    const history = await t.http().get(`/applications/${id}/history?revision=4`).set('Authorization', `Bearer ${inspector}`).expect(200);
    expect(history.body.events.map((e: { type: string }) => e.type)).toEqual([
      'ApplicationSubmitted',
      'RevisionRequested',
      'ApplicationAmended',
      'ApplicationReviewed',
      'ApplicationApproved',
    ]);
    expect(history.body.state).toMatchObject({ status: 'approved', disbursedAmount: 0 });
    expect(history.body.events[4].metadata).toMatchObject({ actorId: 'committee-1', role: 'committee' });

    const asOf = history.body.events[2].metadata.at;
    const earlier = await t.http().get(`/applications/${id}/history`).query({ asOf }).set('Authorization', `Bearer ${inspector}`).expect(200);
    expect(earlier.body.state.status).toBe('submitted');

    await t.http().get(`/applications/${id}/integrity`).set('Authorization', `Bearer ${inspector}`).expect(200, { valid: true, events: 9 });

    // And the list read model shows it.
    const list = await t.http().get('/applications').query({ programmeId, status: 'closed' }).set('Authorization', `Bearer ${committee}`).expect(200);
    expect(list.body.items.map((i: { id: string }) => i.id)).toContain(id);
  }, 60_000);

  it('exposes Prometheus metrics: commands by route and status, projection lag', async () => {
    await t.settle();
    const res = await t.http().get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.text).toMatch(/kcflow_http_requests_total\{method="POST",route="\/applications\/:id\/approval",status="200"\} \d+/);
    expect(res.text).toMatch(/kcflow_http_request_duration_seconds_bucket\{le="[\d.]+",method="POST",route="\/applications"\}/);
    expect(res.text).toMatch(/kcflow_projection_lag_events\{projection="budget"\} 0/);
  });

  describe('refusals write nothing', () => {
    let id: string;
    beforeAll(async () => {
      id = await submit(programmeId);
    });

    it('400 for a malformed body, with field errors', async () => {
      const res = await post('/applications', applicant, {
        ...application(programmeId),
        project: { ...application(programmeId).project, totalCost: '600000000', requestedAmount: 1.5 },
        extra: true,
      }).expect(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      const fields = res.body.errors.map((e: { field: string }) => e.field);
      expect(fields).toEqual(expect.arrayContaining(['project.totalCost', 'project.requestedAmount', 'extra']));
    });

    it('400 for fields named after Object.prototype members, which validation libraries mistake for declared ones', async () => {
      for (const key of ['valueOf', 'toString', 'hasOwnProperty', 'constructor', '__proto__']) {
        const body = `{"reason":"Người thân","${key}":{}}`;
        await t.http().post(`/applications/${id}/recusals`).set('Authorization', `Bearer ${reviewer}`).set('Content-Type', 'application/json').send(body).expect(400);
      }
      expect(await eventsOf(id)).toBe(1);
    });

    it('400 for malformed JSON', async () => {
      await t.http().post('/applications').set('Authorization', `Bearer ${applicant}`).set('Content-Type', 'application/json').send('{"programmeId": ').expect(400);
    });

    it('401 without a token or with a forged one', async () => {
      await t.http().get(`/applications/${id}`).expect(401);
      await t.http().get(`/applications/${id}`).set('Authorization', `Bearer ${admin}x`).expect(401);
    });

    it('403 for a role that may not, and for another applicant', async () => {
      await post(`/applications/${id}/approval`, finance, { decisionNumber: 'x', decisionDate: '2024-05-02', approvedAmount: 1 }).expect(403);
      await t.http().get(`/applications/${id}`).set('Authorization', `Bearer ${otherApplicant}`).expect(403);
      await post(`/applications/${id}/withdrawal`, otherApplicant, { reason: 'not mine' }).expect(403);
      expect(await eventsOf(id)).toBe(1);
    });

    it('404 for an unknown application', async () => {
      await t.http().get('/applications/does-not-exist').set('Authorization', `Bearer ${inspector}`).expect(404);
    });

    it('409 for a step the lifecycle does not allow', async () => {
      const res = await post(`/applications/${id}/approval`, committee, { decisionNumber: 'x', decisionDate: '2024-05-02', approvedAmount: 1 }).expect(409);
      expect(res.body.detail).toMatch(/Cannot approve an application that is submitted/);
      expect(await eventsOf(id)).toBe(1);
    });

    it('412 when If-Match names an old revision; 200 with the current one', async () => {
      await post(`/applications/${id}/reviews`, reviewer, { score: 70, recommendation: 'approve' }, { 'If-Match': '"5"' }).expect(412);
      expect(await eventsOf(id)).toBe(1);
      await post(`/applications/${id}/reviews`, reviewer, { score: 70, recommendation: 'approve' }, { 'If-Match': '"0"' }).expect(200);
    });

    it('Idempotency-Key: the same request answers the same, a different body is 422', async () => {
      const other = await submit(programmeId);
      await post(`/applications/${other}/reviews`, reviewer, { score: 90, recommendation: 'approve' }).expect(200);
      await post(`/applications/${other}/approval`, committee, { decisionNumber: 'QĐ-7', decisionDate: '2024-05-02', approvedAmount: 100_000_000 }).expect(200);
      const body = { paymentRef: 'KBNN-IDEM', amount: 10_000_000, paidAt: '2024-06-01' };
      const first = await post(`/applications/${other}/disbursements`, finance, body, { 'Idempotency-Key': 'pay-once' }).expect(200);
      const again = await post(`/applications/${other}/disbursements`, finance, body, { 'Idempotency-Key': 'pay-once' }).expect(200);
      expect(again.body).toEqual(first.body);
      expect(again.headers['idempotent-replayed']).toBe('true');
      await post(`/applications/${other}/disbursements`, finance, { ...body, amount: 20_000_000 }, { 'Idempotency-Key': 'pay-once' }).expect(422);
      const state = await t.http().get(`/applications/${other}`).set('Authorization', `Bearer ${finance}`).expect(200);
      expect(state.body.disbursements).toHaveLength(1);
    });
  });

  it('50 concurrent approvals against room for 10: exactly 10 commit (invariant 3)', async () => {
    const programme = await openProgramme(1_000_000_000);
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push(await submit(programme));
    await Promise.all(ids.map((id) => post(`/applications/${id}/reviews`, reviewer, { score: 80, recommendation: 'approve' }).expect(200)));

    const results = await Promise.all(
      ids.map((id, i) =>
        post(`/applications/${id}/approval`, committee, { decisionNumber: `QĐ-${i}`, decisionDate: '2024-05-02', approvedAmount: 100_000_000 }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 409)).toHaveLength(40);
    for (const refused of results.filter((r) => r.status === 409)) expect(refused.body.detail).toMatch(/Budget exhausted/);

    await t.settle();
    const budget = await t.http().get(`/programmes/${programme}/budget`).set('Authorization', `Bearer ${finance}`).expect(200);
    const equipment = budget.body.categories.find((c: { category: string }) => c.category === 'advanced_equipment');
    expect(equipment).toMatchObject({ allocated: 1_000_000_000, committed: 1_000_000_000, available: 0 });
    const approvedIds = ids.filter((_, i) => results[i].status === 200);
    for (const id of approvedIds) {
      const app = await t.http().get(`/applications/${id}`).set('Authorization', `Bearer ${committee}`).expect(200);
      expect(app.body.status).toBe('approved');
    }
  }, 120_000);
}
