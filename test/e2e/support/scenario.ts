import type { Role } from '@kcflow/auth';
import type request from 'supertest';
import type { TestApp } from '../../support/test-app';

/**
 * The steps the audit and front-door suites share: tokens for every role, a programme, and
 * an application driven to any stage of its life over HTTP.
 */
export interface Scenario {
  tokens: Record<Role, string> & { otherApplicant: string };
  post(path: string, token: string, body: unknown, headers?: Record<string, string>): request.Test;
  get(path: string, token: string): request.Test;
  openProgramme(allocation?: number): Promise<string>;
  submit(programmeId: string, overrides?: { description?: string }): Promise<string>;
  /** Submitted → reviewed → approved (300,000,000 VND) → 70% advance paid → evaluated. */
  advance(id: string, to: 'reviewed' | 'approved' | 'paid' | 'evaluated'): Promise<void>;
  eventCount(id: string): Promise<number>;
}

let programmes = 0;

/** The body of `POST /applications` that `submit` sends. */
export function applicationBody(programmeId: string, description = 'Đầu tư dây chuyền chẻ nan') {
  return {
    programmeId,
    category: 'advanced_equipment',
    applicant: { name: 'HTX Mây tre đan Phú Vinh', taxCode: '0101234567', kind: 'cooperative', district: 'Chương Mỹ', commune: 'Phú Nghĩa', craftVillage: 'Phú Vinh' },
    project: {
      title: 'Máy chẻ nan tự động',
      description,
      totalCost: 600_000_000,
      requestedAmount: 300_000_000,
      expectedOutcomes: { jobs_created: 12, facilities_equipped: 1 },
    },
  };
}

export async function scenario(t: TestApp): Promise<Scenario> {
  const [applicant, otherApplicant, reviewer, committee, finance, inspector, admin] = await Promise.all([
    t.token('applicant', 'htx-phu-vinh'),
    t.token('applicant', 'someone-else'),
    t.token('reviewer', 'reviewer-1'),
    t.token('committee', 'committee-1'),
    t.token('finance', 'finance-1'),
    t.token('inspector', 'inspector-1'),
    t.token('admin', 'admin-1'),
  ]);
  const tokens = { applicant, otherApplicant, reviewer, committee, finance, inspector, admin };
  const post = (path: string, token: string, body: unknown, headers: Record<string, string> = {}) =>
    t.http().post(path).set('Authorization', `Bearer ${token}`).set(headers).send(body as object);
  const get = (path: string, token: string) => t.http().get(path).set('Authorization', `Bearer ${token}`);

  return {
    tokens,
    post,
    get,
    async openProgramme(allocation = 3_000_000_000) {
      const id = `HN-2024-audit-${Date.now().toString(36)}-${++programmes}`;
      await post('/programmes', admin, {
        id,
        name: 'Kế hoạch khuyến công 2024',
        year: 2024,
        fundingSource: 'city',
        allocations: { advanced_equipment: allocation, product_design: 500_000_000 },
        targets: { facilities_equipped: { min: 10, max: 15 } },
      }).expect(201);
      return id;
    },
    async submit(programmeId, overrides = {}) {
      const res = await post('/applications', applicant, applicationBody(programmeId, overrides.description)).expect(201);
      return res.body.id;
    },
    async advance(id, to) {
      const stages = ['reviewed', 'approved', 'paid', 'evaluated'];
      const steps: Array<() => request.Test> = [
        () => post(`/applications/${id}/reviews`, reviewer, { score: 85, recommendation: 'approve', recommendedAmount: 300_000_000 }),
        () => post(`/applications/${id}/approval`, committee, { decisionNumber: '1234/QĐ-UBND', decisionDate: '2024-05-02', approvedAmount: 300_000_000 }),
        () => post(`/applications/${id}/disbursements`, finance, { paymentRef: `KBNN-${id.slice(0, 8)}-1`, amount: 210_000_000, paidAt: '2024-06-01' }),
        () => post(`/applications/${id}/evaluation`, reviewer, { outcomes: { jobs_created: 10, facilities_equipped: 1 }, rating: 'achieved' }),
      ];
      for (const step of steps.slice(0, stages.indexOf(to) + 1)) await step().expect(200);
    },
    async eventCount(id) {
      const res = await get(`/applications/${id}/history`, inspector).expect(200);
      return res.body.events.length;
    },
  };
}
