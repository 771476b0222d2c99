import { Workbook } from 'exceljs';
import type { Response } from 'superagent';
import { startTestApp, TestApp, TestStore } from '../support/test-app';

const M = 1_000_000;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Collects the body as bytes, whatever its type, so the BOM and the XLSX come back untouched. */
function bytes(res: Response, done: (error: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => done(null, Buffer.concat(chunks)));
}

const csvLines = (body: Buffer) => body.subarray(BOM.length).toString('utf8').trimEnd().split('\r\n');

/**
 * API.md "Reports" over HTTP: budgets and outcomes as JSON, CSV and XLSX, who may see them,
 * and a projection rebuilt through the api while it serves them.
 */
export function describeReports(kind: TestStore): void {
  let t: TestApp;
  let admin: string, applicant: string, reviewer: string, committee: string, finance: string, inspector: string;
  const programmeId = `HN-2024-reports-${kind}`;
  const earlier = `HN-2023-reports-${kind}`;

  const get = (path: string, token: string) => t.http().get(path).set('Authorization', `Bearer ${token}`);
  const post = (path: string, token: string, body: object = {}) => t.http().post(path).set('Authorization', `Bearer ${token}`).send(body);

  async function approvedApplication(programme: string, taxCode: string, district: string, expectedOutcomes: object, approvedAmount: number): Promise<string> {
    const submitted = await post('/applications', applicant, {
      programmeId: programme,
      category: 'advanced_equipment',
      applicant: { name: 'HTX Mây tre đan Phú Vinh', taxCode, kind: 'cooperative', district, commune: 'Phú Nghĩa' },
      project: { title: 'Máy chẻ nan tự động', description: 'Dây chuyền chẻ nan', totalCost: 600 * M, requestedAmount: 300 * M, expectedOutcomes },
    }).expect(201);
    const id: string = submitted.body.id;
    await post(`/applications/${id}/reviews`, reviewer, { score: 85, recommendation: 'approve' }).expect(200);
    await post(`/applications/${id}/approval`, committee, { decisionNumber: `${id}/QĐ-UBND`, decisionDate: '2024-05-02', approvedAmount }).expect(200);
    return id;
  }

  beforeAll(async () => {
    t = await startTestApp(kind);
    [admin, applicant, reviewer, committee, finance, inspector] = await Promise.all([
      t.token('admin'),
      t.token('applicant', 'htx-phu-vinh'),
      t.token('reviewer'),
      t.token('committee'),
      t.token('finance'),
      t.token('inspector'),
    ]);
    for (const [id, year] of [[programmeId, 2024], [earlier, 2023]] as const) {
      await post('/programmes', admin, {
        id,
        name: `Kế hoạch khuyến công ${year}`,
        year,
        fundingSource: 'city',
        allocations: { advanced_equipment: 3_000 * M, product_design: 500 * M },
        targets: { facilities_equipped: { min: 10, max: 15 }, new_designs: { min: 650, max: 800 } },
      }).expect(201);
    }
    const first = await approvedApplication(programmeId, '0101234567', 'Chương Mỹ', { jobs_created: 12, facilities_equipped: 1 }, 300 * M);
    await post(`/applications/${first}/disbursements`, finance, { paymentRef: `KBNN-${first}`, amount: 210 * M, paidAt: '2024-06-01' }).expect(200);
    await post(`/applications/${first}/evaluation`, reviewer, { outcomes: { jobs_created: 10, facilities_equipped: 1 }, rating: 'achieved' }).expect(200);
    // The same facility again in 2024 (counted once), and in 2023 (counted again: another year).
    await approvedApplication(programmeId, '0101234567', 'Thạch Thất', { facilities_equipped: 1 }, 200 * M);
    await approvedApplication(earlier, '0101234567', 'Chương Mỹ', { new_designs: 40 }, 100 * M);
    await t.settle();
  }, 120_000);

  afterAll(async () => t?.close(), 30_000);

  it('reports the outcomes of a programme against its targets', async () => {
    const res = await get(`/reports/outcomes?programmeId=${programmeId}`, finance).expect(200);
    expect(res.body).toEqual({
      programmeId,
      indicators: [
        { indicator: 'jobs_created', target: null, expected: 12, achieved: 10, percentOfMin: null },
        { indicator: 'workers_trained', target: null, expected: 0, achieved: 0, percentOfMin: null },
        { indicator: 'managers_trained', target: null, expected: 0, achieved: 0, percentOfMin: null },
        { indicator: 'new_designs', target: { min: 650, max: 800 }, expected: 0, achieved: 0, percentOfMin: 0 },
        { indicator: 'fair_participations', target: null, expected: 0, achieved: 0, percentOfMin: null },
        { indicator: 'facilities_equipped', target: { min: 10, max: 15 }, expected: 2, achieved: 1, percentOfMin: 10 },
        { indicator: 'export_value_vnd', target: null, expected: 0, achieved: 0, percentOfMin: null },
      ],
      supportedFacilities: 1,
    });
  });

  it('sums the outcomes over a span of years, the targets too', async () => {
    const res = await get('/reports/outcomes?from=2023&to=2024', inspector).expect(200);
    expect(res.body).toMatchObject({ from: 2023, to: 2024, supportedFacilities: 2 });
    expect(res.body.indicators.find((i: { indicator: string }) => i.indicator === 'new_designs')).toEqual({
      indicator: 'new_designs',
      target: { min: 1300, max: 1600 },
      expected: 40,
      achieved: 0,
      percentOfMin: 0,
    });
  });

  it('refuses malformed report queries: unknown, combined or reversed parameters, unknown programmes', async () => {
    const problem = async (path: string, status: number) => {
      const res = await get(path, finance).expect(status);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      return res.body;
    };
    expect((await problem('/reports/outcomes?programmeId=x&colour=red', 400)).errors).toEqual([{ field: 'colour', message: 'colour is not an accepted field' }]);
    expect((await problem(`/reports/outcomes?programmeId=${programmeId}&from=2024`, 400)).errors[0].field).toBe('programmeId');
    expect((await problem('/reports/outcomes?from=2025&to=2021', 400)).errors[0].field).toBe('to');
    expect((await problem('/reports/outcomes?from=twenty', 400)).errors[0].field).toBe('from');
    expect((await problem('/reports/budget.csv?lang=fr', 400)).errors[0].field).toBe('lang');
    await problem('/reports/outcomes?programmeId=no-such-programme', 404);
    await problem('/reports/budget.xlsx?programmeId=no-such-programme', 404);
  });

  it('keeps reports from applicants and reviewers, and from anyone without a token', async () => {
    for (const path of ['/reports/outcomes', '/reports/budget', `/reports/budget.csv?programmeId=${programmeId}`, '/reports/outcomes.xlsx']) {
      await get(path, applicant).expect(403);
      await get(path, reviewer).expect(403);
      await t.http().get(path).expect(401);
    }
    for (const token of [admin, committee, finance, inspector]) await get('/reports/outcomes', token).expect(200);
  });

  it('sums budgets per year and funding source; the programme budget has counts and districts', async () => {
    const summary = await get('/reports/budget?year=2024&fundingSource=city', committee).expect(200);
    const line = summary.body.programmes.find((p: { programmeId: string }) => p.programmeId === programmeId);
    expect(line).toEqual({
      programmeId, name: 'Kế hoạch khuyến công 2024', year: 2024, fundingSource: 'city',
      allocated: 3_500 * M, committed: 500 * M, disbursed: 210 * M, available: 3_000 * M, applicationsApproved: 2, applicationsPaid: 1,
    });
    expect(summary.body).toMatchObject({ year: 2024, fundingSource: 'city', groups: [expect.objectContaining({ year: 2024, fundingSource: 'city' })] });
    expect(summary.body.programmes.every((p: { year: number }) => p.year === 2024)).toBe(true);

    const budget = await get(`/programmes/${programmeId}/budget`, finance).expect(200);
    expect(budget.body.districts).toEqual([
      { district: 'Chương Mỹ', committed: 300 * M, disbursed: 210 * M, applications: 1 },
      { district: 'Thạch Thất', committed: 200 * M, disbursed: 0, applications: 1 },
    ]);
  });

  it('exports the budget as CSV with a BOM, in English or Vietnamese, as an attachment', async () => {
    const en = await get(`/reports/budget.csv?programmeId=${programmeId}`, finance).buffer(true).parse(bytes).expect(200);
    expect(en.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(en.headers['content-disposition']).toBe(`attachment; filename="budget-${programmeId}.csv"`);
    expect((en.body as Buffer).subarray(0, 3)).toEqual(BOM);
    expect(csvLines(en.body)).toEqual([
      'Support category,Allocated (VND),Committed (VND),Disbursed (VND),Available (VND),Applications approved,Applications paid',
      'Advanced machinery and technology,3000000000,500000000,210000000,2500000000,2,1',
      'Product design,500000000,0,0,500000000,0,0',
      'Total,3500000000,500000000,210000000,3000000000,2,1',
    ]);

    const vi = await get(`/reports/budget.csv?programmeId=${programmeId}&lang=vi`, finance).buffer(true).parse(bytes).expect(200);
    expect(vi.headers['content-disposition']).toBe(`attachment; filename="budget-${programmeId}-vi.csv"`);
    const lines = csvLines(vi.body);
    expect(lines[0]).toBe('Nội dung hỗ trợ,Kinh phí được giao (VNĐ),Đã cam kết (VNĐ),Đã giải ngân (VNĐ),Còn lại (VNĐ),Số hồ sơ được phê duyệt,Số hồ sơ đã giải ngân');
    expect(lines[1]).toBe('Ứng dụng máy móc thiết bị tiên tiến,3000000000,500000000,210000000,2500000000,2,1');
    expect(lines.at(-1)).toMatch(/^Tổng cộng,/);
  });

  it('exports outcomes as CSV, supported facilities on the last line', async () => {
    const res = await get(`/reports/outcomes.csv?programmeId=${programmeId}&lang=vi`, inspector).buffer(true).parse(bytes).expect(200);
    expect(res.headers['content-disposition']).toBe(`attachment; filename="outcomes-${programmeId}-vi.csv"`);
    const lines = csvLines(res.body);
    expect(lines[0]).toBe('Chỉ tiêu,Mục tiêu tối thiểu,Mục tiêu tối đa,Dự kiến (hồ sơ được phê duyệt),Đạt được (nghiệm thu),% so với mục tiêu tối thiểu');
    expect(lines).toContain('Cơ sở đầu tư thiết bị tiên tiến,10,15,2,1,10');
    expect(lines.at(-1)).toBe('Lượt cơ sở được hỗ trợ (mỗi cơ sở một lượt/năm),,,,1,');
    const span = await get('/reports/outcomes.csv?from=2023&to=2024', inspector).buffer(true).parse(bytes).expect(200);
    expect(span.headers['content-disposition']).toBe('attachment; filename="outcomes-2023-2024.csv"');
  });

  it('exports XLSX that a spreadsheet reads back: sheets, headings, VND as formatted numbers', async () => {
    const res = await get(`/reports/budget.xlsx?programmeId=${programmeId}&lang=vi`, finance).buffer(true).parse(bytes).expect(200);
    expect(res.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="budget-${programmeId}-vi.xlsx"`);
    const workbook = new Workbook();
    await workbook.xlsx.load(res.body);
    expect(workbook.worksheets.map((sheet) => sheet.name)).toEqual(['Theo nội dung hỗ trợ', 'Theo quận, huyện']);
    const [categories, districts] = workbook.worksheets;
    expect(categories.getRow(1).values).toEqual([undefined, 'Nội dung hỗ trợ', 'Kinh phí được giao (VNĐ)', 'Đã cam kết (VNĐ)', 'Đã giải ngân (VNĐ)', 'Còn lại (VNĐ)', 'Số hồ sơ được phê duyệt', 'Số hồ sơ đã giải ngân']);
    expect(categories.getRow(2).values).toEqual([undefined, 'Ứng dụng máy móc thiết bị tiên tiến', 3_000 * M, 500 * M, 210 * M, 2_500 * M, 2, 1]);
    expect(categories.getCell('B2').numFmt).toBe('#,##0 "₫"');
    expect(categories.getCell('F2').numFmt).toBe('#,##0');
    expect(districts.getRow(3).values).toEqual([undefined, 'Thạch Thất', 200 * M, 0, 1]);

    const outcomes = await get('/reports/outcomes.xlsx?from=2023&to=2024', committee).buffer(true).parse(bytes).expect(200);
    const book = new Workbook();
    await book.xlsx.load(outcomes.body);
    const sheet = book.getWorksheet('Outcomes')!;
    expect(sheet.getRow(5).values).toEqual([undefined, 'New product designs', 1300, 1600, 40, 0, 0]);

    const all = await get('/reports/budget.xlsx?year=2024', finance).buffer(true).parse(bytes).expect(200);
    expect(all.headers['content-disposition']).toBe('attachment; filename="budget-2024.xlsx"');
  });

  it('rebuilds a projection through the api while it serves, with progress and lag on /projections', async () => {
    const before = (await get(`/reports/outcomes?programmeId=${programmeId}`, finance).expect(200)).body;
    await post('/projections/outcomes/rebuild', inspector).expect(403);
    await post('/projections/no-such-projection/rebuild', admin).expect(404);
    const started = await post('/projections/outcomes/rebuild', admin).expect(202);
    expect(started.body).toMatchObject({ projection: 'outcomes', state: 'running', error: null });

    let rebuild: { state: string; replayed: number; error: string | null } | undefined;
    for (let tries = 0; tries < 200 && rebuild?.state !== 'done'; tries++) {
      // Readers are served during the rebuild, with the same figures.
      expect((await get(`/reports/outcomes?programmeId=${programmeId}`, finance).expect(200)).body).toEqual(before);
      const list = await get('/projections', inspector).expect(200);
      rebuild = list.body.projections.find((p: { name: string }) => p.name === 'outcomes').rebuild;
      if (rebuild?.state === 'failed') throw new Error(`rebuild failed: ${rebuild.error}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(rebuild).toMatchObject({ state: 'done', error: null });
    expect(rebuild!.replayed).toBeGreaterThan(10);
    expect((await get(`/reports/outcomes?programmeId=${programmeId}`, finance).expect(200)).body).toEqual(before);

    await t.settle();
    const list = await get('/projections', admin).expect(200);
    for (const projection of list.body.projections) {
      expect(projection).toMatchObject({ position: list.body.head, lagEvents: 0, lagSeconds: 0, lastError: null, lastErrorEventId: null });
    }
  });
}
