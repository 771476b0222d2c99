import type { Browser, Locator, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../support/test-app';
import { browserUnavailable, ensureConsoleBuilt, launchChromium, newContext, printScreenshots, screenshot, TABLET } from './browser';

/**
 * The web console in real Chromium against the built server on the embedded default: the
 * committee approves, finance pays, the budget chart moves, an inspector replays the
 * timeline; two committee members racing on one application; and one application carried
 * from submission to closure by every role through the console alone. Data is seeded over
 * the HTTP API.
 */

const unavailable = browserUnavailable();
if (unavailable) console.warn(`SKIPPED browser suite: ${unavailable}`);
const suite = unavailable ? describe.skip : describe;

jest.setTimeout(120_000);

const PROGRAMME = 'HN-2024-city';
const VND = (text: string) => new RegExp(text.replace(/\./g, '\\.') + '\\s₫');

type Seeded = Record<'equipment' | 'kiln' | 'lacquer' | 'silk' | 'cnc' | 'embroidery', string>;

async function seed(app: TestApp): Promise<Seeded> {
  const tokens = {
    admin: await app.token('admin', 'admin-1'),
    reviewer: await app.token('reviewer', 'reviewer-1'),
    committee: await app.token('committee', 'committee-1'),
    finance: await app.token('finance', 'finance-1'),
  };
  const post = async (token: string, path: string, body: object) => {
    const response = await app.http().post(path).set('Authorization', `Bearer ${token}`).send(body);
    if (response.status >= 300) throw new Error(`${path}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body as { id: string };
  };
  await post(tokens.admin, '/programmes', {
    id: PROGRAMME,
    name: 'Kế hoạch khuyến công 2024',
    year: 2024,
    fundingSource: 'city',
    allocations: { advanced_equipment: 3_000_000_000, product_design: 800_000_000, vocational_training: 1_200_000_000, trade_fair: 900_000_000 },
    targets: {
      facilities_equipped: { min: 10, max: 15 },
      new_designs: { min: 650, max: 800 },
      fair_participations: { min: 600, max: 650 },
      workers_trained: { min: 500, max: 700 },
    },
  });
  const apply = async (owner: string, category: string, applicant: object, project: object) =>
    (await post(await app.token('applicant', owner), '/applications', { programmeId: PROGRAMME, category, applicant, project })).id;
  const project = (title: string, totalCost: number, requestedAmount: number, expectedOutcomes: object) => ({ title, description: title, totalCost, requestedAmount, expectedOutcomes });

  const ids: Seeded = {
    equipment: await apply(
      'htx-phu-vinh',
      'advanced_equipment',
      { name: 'HTX Mây tre đan Phú Vinh', taxCode: '0101234567', kind: 'cooperative', district: 'Chương Mỹ', commune: 'Phú Nghĩa', craftVillage: 'Phú Vinh' },
      project('Máy chẻ nan tự động', 600_000_000, 300_000_000, { jobs_created: 12, facilities_equipped: 1 }),
    ),
    kiln: await apply(
      'gom-bat-trang',
      'advanced_equipment',
      { name: 'Công ty TNHH Gốm Bát Tràng Xanh', taxCode: '0105556789', kind: 'enterprise', district: 'Gia Lâm', commune: 'Bát Tràng', craftVillage: 'Bát Tràng' },
      project('Lò nung gas tiết kiệm năng lượng', 500_000_000, 250_000_000, { facilities_equipped: 1, jobs_created: 5 }),
    ),
    lacquer: await apply(
      'son-mai-ha-thai',
      'product_design',
      { name: 'Hộ kinh doanh sơn mài Hạ Thái', taxCode: '8012345678', kind: 'household', district: 'Thường Tín', commune: 'Duyên Thái', craftVillage: 'Hạ Thái' },
      project('Bộ mẫu sơn mài mới', 120_000_000, 60_000_000, { new_designs: 20 }),
    ),
    silk: await apply(
      'lua-van-phuc',
      'trade_fair',
      { name: 'HTX Lụa Vạn Phúc', taxCode: '0100998877', kind: 'cooperative', district: 'Hà Đông', commune: 'Vạn Phúc', craftVillage: 'Vạn Phúc' },
      project('Tham gia hội chợ làng nghề', 80_000_000, 40_000_000, { fair_participations: 3 }),
    ),
    cnc: await apply(
      'moc-chang-son',
      'advanced_equipment',
      { name: 'Công ty CP Mộc Chàng Sơn', taxCode: '0107654321', kind: 'enterprise', district: 'Thạch Thất', commune: 'Chàng Sơn', craftVillage: 'Chàng Sơn' },
      project('Máy CNC chạm khắc gỗ', 900_000_000, 300_000_000, { facilities_equipped: 1 }),
    ),
    embroidery: await apply(
      'theu-quat-dong',
      'vocational_training',
      { name: 'HTX Thêu ren Quất Động', taxCode: '0102223334', kind: 'cooperative', district: 'Thường Tín', commune: 'Quất Động', craftVillage: 'Quất Động' },
      project('Truyền nghề thêu tay', 200_000_000, 100_000_000, { workers_trained: 60 }),
    ),
  };
  const review = (id: string, recommendedAmount: number, recommendation = 'approve') =>
    post(tokens.reviewer, `/applications/${id}/reviews`, { score: 82, recommendation, recommendedAmount });
  await review(ids.equipment, 300_000_000);
  await review(ids.kiln, 250_000_000);
  await review(ids.cnc, 300_000_000, 'reject');
  await post(tokens.committee, `/applications/${ids.cnc}/rejection`, { reason: 'Thiết bị không thuộc danh mục tiên tiến' });
  await post(tokens.reviewer, `/applications/${ids.silk}/revision-requests`, { reason: 'Bổ sung báo giá gian hàng' });
  await review(ids.embroidery, 100_000_000);
  await post(tokens.committee, `/applications/${ids.embroidery}/approval`, { decisionNumber: '812/QĐ-UBND', decisionDate: '2024-03-15', approvedAmount: 100_000_000 });
  await post(tokens.finance, `/applications/${ids.embroidery}/disbursements`, { paymentRef: 'KBNN-2024-0007', amount: 70_000_000, paidAt: '2024-04-01' });
  await post(tokens.reviewer, `/applications/${ids.embroidery}/evaluation`, { outcomes: { workers_trained: 64 }, rating: 'achieved' });
  await post(tokens.finance, `/applications/${ids.embroidery}/disbursements`, { paymentRef: 'KBNN-2024-0011', amount: 30_000_000, paidAt: '2024-10-20' });
  await post(tokens.admin, `/applications/${ids.embroidery}/closure`, {});
  await app.settle();
  return ids;
}

/** Waits until the locator's text matches (read models trail commands by a moment). */
async function textOf(locator: Locator, expected: RegExp, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = (await locator.textContent({ timeout: timeoutMs }).catch(() => null)) ?? '';
    if (expected.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`expected ${expected} in ${JSON.stringify(text)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

suite('web console in Chromium', () => {
  let browser: Browser;
  const pageErrors: string[][] = [];

  beforeAll(async () => {
    ensureConsoleBuilt();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    printScreenshots();
  });

  afterEach(() => {
    for (const errors of pageErrors) expect(errors).toEqual([]);
  });

  describe('under production auth settings (an identity provider, no development secret)', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp('pglite', {
        env: { AUTH_JWKS_URL: 'https://id.example.gov.vn/.well-known/jwks.json', AUTH_ISSUER: 'https://id.example.gov.vn', AUTH_AUDIENCE: 'kcflow-api' },
      });
    });
    afterAll(() => app?.close());

    it('has no /dev/tokens route and the sign-in page offers only the token field', async () => {
      expect((await fetch(`${app.baseUrl}/dev/tokens`)).status).toBe(404);
      const mint = await fetch(`${app.baseUrl}/dev/tokens`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ sub: 'mallory', roles: ['admin'] }),
      });
      expect(mint.status).toBe(404);

      const { page, errors } = await newContext(browser);
      pageErrors.push(errors);
      const picker = page.waitForResponse((r) => r.url().endsWith('/dev/tokens'));
      await page.goto(`${app.baseUrl}/`);
      expect((await picker).status()).toBe(404);
      await page.getByLabel('Mã truy cập (bearer token)').waitFor();
      expect(await page.locator('.dev-only, button[data-role]').count()).toBe(0);
      await page.getByLabel('Mã truy cập (bearer token)').fill('not-a-jwt');
      await page.getByRole('button', { name: 'Đăng nhập' }).click();
      await textOf(page.locator('.notice'), /Mã truy cập không đọc được/);
      await page.context().close();
    });
  });

  describe('on the development secret, seeded over the API', () => {
    let app: TestApp;
    let ids: Seeded;
    let base: string;

    beforeAll(async () => {
      app = await startTestApp('pglite');
      base = app.baseUrl!;
      ids = await seed(app);
    });

    afterAll(() => app?.close());

    async function open(role: string, viewport?: typeof TABLET): Promise<Page> {
      const { page, errors } = await newContext(browser, viewport);
      pageErrors.push(errors);
      await page.goto(`${base}/`);
      await page.locator(`button[data-role="${role}"]`).click();
      await page.getByTestId('who').waitFor();
      return page;
    }
    const goto = (page: Page, path: string) => page.goto(`${base}/console/${path}`);
    const action = (page: Page, name: string) => page.locator(`details[data-action="${name}"]`);
    const barPaths = (page: Page, series: string) =>
      page.locator(`[data-testid="budget-chart"] .bar-${series} path`).evaluateAll((paths) => paths.map((p) => p.getAttribute('d')));
    const budgetCell = (page: Page, category: string, series: string) => page.locator(`tr[data-category="${category}"] td[data-series="${series}"]`);

    let chartBefore: { committed: (string | null)[]; disbursed: (string | null)[] };

    it('serves the sign-in page at / without a token, with the development-only identity picker', async () => {
      const { page, errors } = await newContext(browser);
      pageErrors.push(errors);
      await page.goto(`${base}/`);
      expect(page.url()).toBe(`${base}/console/`);
      await page.getByRole('heading', { name: 'Danh tính mẫu — chỉ dùng khi phát triển' }).waitFor();
      expect(await page.locator('button[data-role]').count()).toBe(6);
      await screenshot(page, 'sign-in');
      await page.context().close();
    });

    it('finance sees the budget before the decision', async () => {
      const page = await open('finance');
      await page.getByRole('link', { name: 'Ngân sách' }).click();
      await page.getByLabel('Chương trình').fill(PROGRAMME);
      await page.getByRole('button', { name: 'Xem' }).click();
      await textOf(budgetCell(page, 'vocational_training', 'disbursed'), VND('100.000.000'));
      expect(await budgetCell(page, 'advanced_equipment', 'committed').textContent()).toMatch(VND('0'));
      chartBefore = { committed: await barPaths(page, 'committed'), disbursed: await barPaths(page, 'disbursed') };
      expect(chartBefore.disbursed).toHaveLength(1); // only the embroidery training has been paid
      await page.context().close();
    });

    it('a committee member finds the application on the board and approves it, seeing the API’s field errors first', async () => {
      const page = await open('committee');
      const reviewed = page.locator('section.column[data-stage="reviewed"]');
      await textOf(reviewed.locator('.count'), /^2$/);
      expect(await page.locator('section.column[data-stage="submitted"] .count').textContent()).toBe('1');
      expect(await page.locator('section.column[data-stage="closed"] .count').textContent()).toBe('1');
      expect(await page.locator('details.folded summary').textContent()).toMatch(/\(1\)/);
      await screenshot(page, 'board');

      await page.getByLabel('Tìm theo tên cơ sở hoặc mã số thuế').fill('0101234567');
      await page.getByRole('button', { name: 'Lọc' }).click();
      await textOf(reviewed.locator('.count'), /^1$/);
      await reviewed.getByRole('link', { name: /HTX Mây tre đan Phú Vinh/ }).click();

      const approve = action(page, 'approve');
      await approve.getByLabel('Số tiền phê duyệt').fill('');
      const refused = page.waitForResponse((r) => r.url().endsWith(`/applications/${ids.equipment}/approval`));
      await approve.locator('button[type="submit"]').click();
      const problem = (await (await refused).json()) as { status: number; errors: { field: string; message: string }[] };
      expect(problem.status).toBe(400);
      const shown = await approve.locator('.field-errors li').allTextContents();
      expect(shown.sort()).toEqual(problem.errors.map((e) => e.message).sort());
      expect(await approve.getByLabel('Số quyết định').getAttribute('aria-invalid')).toBe('true');
      await screenshot(page, 'approve-field-errors');

      await approve.getByLabel('Số quyết định').fill('1234/QĐ-UBND');
      await approve.getByLabel('Ngày quyết định (dd/mm/yyyy)').fill('02/05/2024');
      await approve.getByLabel('Số tiền phê duyệt').fill('300.000.000');
      await textOf(approve.locator('.hint'), VND('300.000.000'));
      await approve.locator('button[type="submit"]').click();
      await textOf(page.locator('.status-line .status'), /Đã phê duyệt/);
      await textOf(page.locator('dd[data-field="approvedAmount"]'), VND('300.000.000'));
      expect(await page.locator('.dossier').textContent()).toContain('1234/QĐ-UBND (02/05/2024)');
      await screenshot(page, 'application-approved');
      await page.context().close();
    });

    it('finance records the advance (a refused over-advance first) and the budget chart changes', async () => {
      const page = await open('finance');
      await goto(page, `applications/${ids.equipment}`);
      const disburse = action(page, 'disburse');
      await disburse.getByLabel('Số chứng từ thanh toán').fill('KBNN-2024-0001');
      await disburse.getByLabel('Ngày thanh toán (dd/mm/yyyy)').fill('01/06/2024');
      await disburse.getByLabel('Số tiền').fill('250.000.000'); // over the 70% advance: a business rule (409)
      await disburse.locator('button[type="submit"]').click();
      await textOf(disburse.locator('.notice'), /409 .*Over-disbursement/);
      expect(await disburse.locator('.notice').textContent()).not.toContain('Người khác đã thao tác trước bạn');

      await disburse.getByLabel('Số tiền').fill('210.000.000');
      await disburse.locator('button[type="submit"]').click();
      await textOf(page.locator('dd[data-field="disbursedAmount"]'), VND('210.000.000'));
      expect(await page.locator('.status-line .badge').textContent()).toBe('Giải ngân một phần');
      await screenshot(page, 'application-paid');

      await page.getByRole('link', { name: 'Ngân sách' }).click();
      await page.getByLabel('Chương trình').fill(PROGRAMME);
      await page.getByRole('button', { name: 'Xem' }).click();
      const disbursed = budgetCell(page, 'advanced_equipment', 'disbursed');
      for (let attempt = 0; !VND('210.000.000').test((await disbursed.textContent()) ?? ''); attempt++) {
        if (attempt > 50) throw new Error(`the budget never showed the payment: ${await disbursed.textContent()}`);
        await page.getByRole('button', { name: 'Làm mới' }).click();
        await page.waitForTimeout(200);
      }
      expect(await budgetCell(page, 'advanced_equipment', 'committed').textContent()).toMatch(VND('300.000.000'));
      expect(await budgetCell(page, 'advanced_equipment', 'available').textContent()).toMatch(VND('2.700.000.000'));
      const after = { committed: await barPaths(page, 'committed'), disbursed: await barPaths(page, 'disbursed') };
      expect(after.disbursed).toHaveLength(2);
      expect(after).not.toEqual(chartBefore);
      expect(await page.locator('table').nth(1).textContent()).toContain('Chương Mỹ');
      await screenshot(page, 'budget');
      await page.context().close();
    });

    it('an inspector opens the timeline and moves the slider back to see the application as it stood', async () => {
      const page = await open('inspector');
      await goto(page, `applications/${ids.equipment}`);
      const timeline = page.locator('.timeline');
      await timeline.locator('li[data-revision="3"]').waitFor();
      const approval = await timeline.locator('li[data-revision="2"]').textContent();
      expect(approval).toMatch(/Phê duyệt/);
      expect(approval).toMatch(/committee-1, Hội đồng phê duyệt \(UBND\)/);
      expect(approval).toMatch(/\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}/);

      const slider = timeline.getByLabel(/Xem hồ sơ tại phiên bản/);
      await slider.focus();
      await page.keyboard.press('ArrowLeft');
      const asOf = timeline.locator('.as-of[data-revision="2"]');
      await textOf(asOf, /Đã phê duyệt/);
      expect(await asOf.textContent()).toMatch(VND('0'));
      expect(await asOf.textContent()).toContain('Chưa giải ngân');
      await page.keyboard.press('ArrowLeft');
      await textOf(timeline.locator('.as-of[data-revision="1"]'), /Đã thẩm định/);
      expect(await timeline.locator('li.later').count()).toBe(2);
      await screenshot(page, 'timeline');
      await page.context().close();
    });

    it('two committee members approve the same application at once: one wins, the other is told to reload', async () => {
      const [first, second] = await Promise.all([open('committee'), open('committee')]);
      for (const page of [first, second]) {
        await goto(page, `applications/${ids.kiln}`);
        await action(page, 'approve').getByLabel('Số quyết định').fill('2001/QĐ-UBND');
      }
      const answers = await Promise.all(
        [first, second].map(async (page) => {
          const answered = page.waitForResponse((r) => r.url().endsWith(`/applications/${ids.kiln}/approval`));
          await action(page, 'approve').locator('button[type="submit"]').click();
          return (await answered).status();
        }),
      );
      // With If-Match the loser's answer is 412 (the stream moved on); without it, 409.
      expect(answers.filter((status) => status === 200)).toHaveLength(1);
      const loser = answers[0] === 200 ? second : first;
      const loserStatus = answers[0] === 200 ? answers[1] : answers[0];
      expect([409, 412]).toContain(loserStatus);
      const notice = loser.locator('.notice.conflict');
      await textOf(notice, /Người khác đã thao tác trước bạn: hãy tải lại hồ sơ/);
      expect(await notice.getAttribute('data-status')).toBe(String(loserStatus));
      await screenshot(loser, 'conflict');
      await notice.getByRole('button', { name: 'Tải lại' }).click();
      await textOf(loser.locator('.status-line .status'), /Đã phê duyệt/);
      expect(await action(loser, 'approve').count()).toBe(0);

      // Nothing was written twice: one decision, one commitment.
      const history = await app.http().get(`/applications/${ids.kiln}/history`).set('Authorization', `Bearer ${await app.token('inspector')}`);
      expect(history.body.events.filter((e: { type: string }) => e.type === 'ApplicationApproved')).toHaveLength(1);
      await app.settle();
      const budget = await app.http().get(`/programmes/${PROGRAMME}/budget`).set('Authorization', `Bearer ${await app.token('finance')}`);
      expect(budget.body.categories.find((c: { category: string }) => c.category === 'advanced_equipment').committed).toBe(550_000_000);
      await first.context().close();
      await second.context().close();
    });

    it('shows outcomes against targets (or says the report is not there yet), in English on request, and fits a tablet', async () => {
      const page = await open('inspector');
      await goto(page, `outcomes?programmeId=${PROGRAMME}`);
      await page.locator('[data-testid="outcomes-table"], .notice').first().waitFor();
      if ((await page.getByTestId('outcomes-table').count()) > 0) {
        expect(await page.getByTestId('outcomes-table').textContent()).toContain('650 – 800');
      } else {
        expect(await page.locator('.notice').textContent()).toMatch(/Báo cáo kết quả chưa có|404/);
      }
      await screenshot(page, 'outcomes');

      await page.getByRole('button', { name: 'English' }).click();
      await page.getByRole('heading', { name: 'Outcomes against targets' }).waitFor();
      await page.getByRole('link', { name: 'Applications' }).click();
      await page.getByRole('heading', { name: 'Applications by stage' }).waitFor();
      await page.getByRole('button', { name: 'Tiếng Việt' }).click();
      await page.getByRole('heading', { name: 'Hồ sơ theo giai đoạn' }).waitFor();

      await page.setViewportSize(TABLET);
      await goto(page, `applications/${ids.equipment}`);
      await page.locator('.timeline').waitFor();
      expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
      await screenshot(page, 'application-tablet');
      await page.context().close();
    });

    it('the programme manager opens a programme, seeing the API’s messages for what is wrong first', async () => {
      const page = await open('admin');
      await page.getByRole('link', { name: 'Mở chương trình' }).click();
      const form = page.locator('form.command');
      await form.getByLabel('Mã chương trình').fill('HN 2025');
      await form.getByLabel('Tên chương trình').fill('Kế hoạch khuyến công 2025');
      await form.getByLabel('Thiết kế mẫu sản phẩm').fill('500.000.000');
      await form.getByLabel('Mẫu sản phẩm mới — tối thiểu').fill('800');
      await form.getByLabel('Mẫu sản phẩm mới — tối đa').fill('700');
      await form.getByRole('button', { name: 'Gửi' }).click();
      await textOf(form.locator('.field-errors').first(), /id must be 1–64 letters, digits, - or _/);
      await textOf(form.locator('fieldset .field-errors'), /targets must map/);
      await screenshot(page, 'open-programme-errors');

      await form.getByLabel('Mã chương trình').fill('HN-2025-city');
      await form.getByLabel('Mẫu sản phẩm mới — tối đa').fill('900');
      await form.getByRole('button', { name: 'Gửi' }).click();
      await page.getByRole('heading', { name: 'Ngân sách chương trình' }).waitFor();
      await textOf(budgetCell(page, 'product_design', 'allocated'), VND('500.000.000'));
      await page.context().close();
    });

    it('carries a new application from submission to closure, each role through the console alone', async () => {
      // The applicant applies.
      const applicant = await open('applicant');
      await applicant.getByRole('link', { name: 'Nộp hồ sơ' }).click();
      const form = applicant.locator('form.command');
      await form.getByLabel('Mã chương trình').fill(PROGRAMME);
      await form.getByLabel('Nhóm hỗ trợ').selectOption('product_design');
      await form.getByLabel('Tên cơ sở').fill('HTX Mây tre đan Phú Vinh');
      await form.getByLabel('Mã số thuế').fill('0101234567');
      await form.getByLabel('Loại hình').selectOption('cooperative');
      await form.getByLabel('Quận/huyện').fill('Chương Mỹ');
      await form.getByLabel('Xã/phường').fill('Phú Nghĩa');
      await form.getByLabel('Tên dự án').fill('Thiết kế 30 mẫu mây tre mới');
      await form.getByLabel('Mô tả').fill('Mẫu cho thị trường xuất khẩu');
      await form.getByLabel('Tổng vốn đầu tư').fill('150.000.000');
      await form.getByLabel('Số tiền đề nghị hỗ trợ').fill('75.000.000');
      await form.getByLabel('Mẫu sản phẩm mới').fill('30');
      await screenshot(applicant, 'new-application');
      await form.getByRole('button', { name: 'Gửi' }).click();
      await textOf(applicant.locator('.status-line .status'), /Đã nộp/);
      const id = applicant.url().split('/').pop()!;
      await applicant.context().close();

      const act = async (role: string, name: string, prepare: (form: Locator) => Promise<void>, expected: RegExp) => {
        const page = await open(role);
        await goto(page, `applications/${id}`);
        const form = action(page, name);
        await prepare(form);
        await form.locator('button[type="submit"]').click();
        await textOf(page.locator('.status-line'), expected);
        await page.context().close();
      };
      await act('reviewer', 'review', async (form) => {
        await form.getByLabel('Điểm thẩm định (0–100)').fill('88');
        await form.getByLabel('Đề xuất', { exact: true }).selectOption('approve');
      }, /Đã thẩm định/);
      await act('committee', 'approve', (form) => form.getByLabel('Số quyết định').fill('3005/QĐ-UBND'), /Đã phê duyệt/);
      await act('finance', 'disburse', async (form) => {
        await form.getByLabel('Số chứng từ thanh toán').fill('KBNN-2024-0100');
        await form.getByLabel('Số tiền').fill('52.500.000'); // the 70% advance
      }, /Giải ngân một phần/);
      await act('reviewer', 'evaluate', async (form) => void (await form.getByLabel('Đánh giá').selectOption('achieved')), /Đã nghiệm thu/);
      await act('finance', 'disburse', (form) => form.getByLabel('Số chứng từ thanh toán').fill('KBNN-2024-0101'), /Đã giải ngân đủ/);
      await act('admin', 'close', async () => undefined, /Đã kết thúc/);
    });
  });
});
