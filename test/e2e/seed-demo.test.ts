import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { startTestApp, TestApp } from '../support/test-app';

const run = promisify(execFile);

describe('npm run seed:demo', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('pglite');
  }, 60_000);
  afterAll(async () => t?.close());

  it('opens the 2024 Hanoi programme with the plan targets and spreads applications over the stages', async () => {
    const { stdout } = await run(process.execPath, ['dist/scripts/seed-demo.js', '--api', t.baseUrl!, '--applications', '60', '--quiet'], {
      cwd: resolve(__dirname, '../..'),
    });
    expect(stdout).toMatch(/Seeded 60 applications into HN-2024-city/);

    const admin = await t.token('admin');
    const programme = await t.http().get('/programmes/HN-2024-city').set('Authorization', `Bearer ${admin}`).expect(200);
    expect(programme.body.targets).toEqual({
      new_designs: { min: 650, max: 800 },
      fair_participations: { min: 600, max: 650 },
      facilities_equipped: { min: 10, max: 15 },
      managers_trained: { min: 2000, max: 2500 },
    });

    await t.settle();
    const statuses = new Set<string>();
    let cursor: string | undefined;
    let total = 0;
    do {
      const page = await t.http().get('/applications').query({ programmeId: 'HN-2024-city', limit: 50, ...(cursor ? { cursor } : {}) }).set('Authorization', `Bearer ${admin}`).expect(200);
      for (const item of page.body.items) statuses.add(item.status);
      total += page.body.items.length;
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor);
    expect(total).toBe(60);
    expect([...statuses].sort()).toEqual(['approved', 'closed', 'evaluated', 'rejected', 'reviewed', 'revision_requested', 'submitted', 'withdrawn']);

    // Every approval stayed within its category's allocation.
    const budget = await t.http().get('/programmes/HN-2024-city/budget').set('Authorization', `Bearer ${admin}`).expect(200);
    for (const line of budget.body.categories) expect(line.committed).toBeLessThanOrEqual(line.allocated);
  }, 120_000);
});
