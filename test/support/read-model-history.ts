import { randomUUID } from 'node:crypto';
import {
  ApplicationEvent,
  Applicant,
  Category,
  DEFAULT_CAPS,
  IndicatorValues,
  Project,
  ProgrammeEvent,
  applicationStream,
  programmeStream,
} from '@kcflow/domain';
import { EventStore } from '@kcflow/event-store';

/**
 * A year of a programme as events, appended straight to a store as the command handlers would
 * write them: the fixture of the read-model contract tests (read models, reports, rebuilds).
 */

export const M = 1_000_000;
export const PROGRAMME = 'HN-2024-city';

export type Actor = { id: string; role: string };
export const admin: Actor = { id: 'admin-1', role: 'admin' };
export const reviewer: Actor = { id: 'reviewer-1', role: 'reviewer' };
export const committee: Actor = { id: 'committee-1', role: 'committee' };
export const finance: Actor = { id: 'finance-1', role: 'finance' };

/** Appends events as the command handlers would, with a clock that moves a minute per event. */
export class History {
  private clock = Date.parse('2024-03-01T01:00:00.000Z');

  constructor(readonly store: EventStore) {}

  async append(streamId: string, event: ProgrammeEvent | ApplicationEvent, actor: Actor, at?: string): Promise<string> {
    const id = randomUUID();
    this.clock += 60_000;
    const metadata = {
      actorId: actor.id,
      role: actor.role,
      correlationId: randomUUID(),
      causationId: randomUUID(),
      occurredAt: at ?? new Date(this.clock).toISOString(),
      schemaVersion: 1,
    };
    await this.store.append(streamId, [{ id, type: event.type, data: event.data, metadata }], 'any');
    return id;
  }

  async openProgramme(
    programmeId: string,
    allocations: Partial<Record<Category, number>>,
    year = 2024,
    fundingSource: 'city' | 'national' = 'city',
  ): Promise<void> {
    const stream = programmeStream(programmeId);
    await this.append(
      stream,
      {
        type: 'ProgrammeOpened',
        data: { programmeId, name: `Kế hoạch khuyến công ${year}`, year, fundingSource, caps: DEFAULT_CAPS, advanceShare: 0.7 },
      },
      admin,
    );
    for (const [category, amount] of Object.entries(allocations) as [Category, number][]) {
      await this.append(stream, { type: 'BudgetAllocated', data: { programmeId, category, amount } }, admin);
    }
    await this.append(
      stream,
      { type: 'TargetsSet', data: { programmeId, targets: { new_designs: { min: 650, max: 800 }, facilities_equipped: { min: 10, max: 15 } } } },
      admin,
    );
  }

  async submit(
    applicationId: string,
    category: Category,
    applicant: Partial<Applicant> & { name: string; district: string },
    project: Partial<Project> = {},
    programmeId = PROGRAMME,
    at?: string,
  ): Promise<void> {
    await this.append(
      applicationStream(applicationId),
      {
        type: 'ApplicationSubmitted',
        data: {
          applicationId,
          programmeId,
          category,
          ownerId: `owner-${applicationId}`,
          applicant: { taxCode: `0101${applicationId.replace(/\D/g, '').padStart(6, '0')}`, kind: 'enterprise', commune: 'Phú Nghĩa', ...applicant },
          project: { title: `Dự án ${applicationId}`, description: '…', totalCost: 1_000 * M, requestedAmount: 200 * M, expectedOutcomes: {}, ...project },
          cap: DEFAULT_CAPS[category],
        },
      },
      { id: `owner-${applicationId}`, role: 'applicant' },
      at,
    );
  }

  async review(applicationId: string, score: number): Promise<void> {
    await this.append(
      applicationStream(applicationId),
      { type: 'ApplicationReviewed', data: { score, recommendation: 'approve', reviewerId: reviewer.id } },
      reviewer,
    );
  }

  /** The approval as the workflow writes it: budget committed first, then the decision. */
  async approve(applicationId: string, category: Category, amount: number, programmeId = PROGRAMME): Promise<void> {
    const decision = { decisionNumber: `QĐ-${applicationId}/UBND`, decisionDate: '2024-04-02', approvedAmount: amount, approvedBy: committee.id };
    await this.append(programmeStream(programmeId), { type: 'BudgetCommitted', data: { programmeId, applicationId, category, amount, decision } }, committee);
    await this.append(
      applicationStream(applicationId),
      { type: 'ApplicationApproved', data: { ...decision, advanceShare: 0.7 } },
      committee,
    );
  }

  async disburse(applicationId: string, amount: number, paymentRef: string): Promise<void> {
    await this.append(applicationStream(applicationId), { type: 'FundsDisbursed', data: { paymentRef, amount, paidAt: '2024-05-01' } }, finance);
  }

  async evaluate(applicationId: string, rating: 'achieved' | 'not_achieved', outcomes: IndicatorValues = { jobs_created: 12 }): Promise<void> {
    await this.append(
      applicationStream(applicationId),
      { type: 'OutcomeEvaluated', data: { outcomes, rating, evaluatorId: reviewer.id } },
      reviewer,
    );
  }
}

/**
 * The first half of the year: a1 fully paid; a2 paid its advance, rated not achieved, closed
 * and the rest released; a3 amended then rejected; a4 withdrawn.
 */
export async function firstHalf(history: History): Promise<void> {
  await history.openProgramme(PROGRAMME, { vocational_training: 500 * M, demonstration_model: 2_000 * M, advanced_equipment: 1_000 * M });

  await history.submit('a1', 'advanced_equipment', { name: 'Công ty TNHH Mây tre Phú Vinh', district: 'Chương Mỹ', craftVillage: 'Phú Vinh' }, {
    totalCost: 600 * M,
    requestedAmount: 250 * M,
    expectedOutcomes: { jobs_created: 10, facilities_equipped: 1 },
  });
  await history.review('a1', 85);
  await history.approve('a1', 'advanced_equipment', 250 * M);
  await history.disburse('a1', 175 * M, 'UNC-0001');
  await history.evaluate('a1', 'achieved', { jobs_created: 12, facilities_equipped: 1, new_designs: 5 });
  await history.disburse('a1', 75 * M, 'UNC-0002');

  await history.submit('a2', 'demonstration_model', { name: 'HTX Sơn mài Hạ Thái', district: 'Thường Tín', kind: 'cooperative' }, {
    totalCost: 2_000 * M,
    requestedAmount: 600 * M,
    expectedOutcomes: { jobs_created: 20, new_designs: 30 },
  });
  await history.review('a2', 70);
  await history.approve('a2', 'demonstration_model', 600 * M);
  await history.disburse('a2', 420 * M, 'UNC-0003');
  await history.evaluate('a2', 'not_achieved', { jobs_created: 2 });
  await history.append(applicationStream('a2'), { type: 'ApplicationClosed', data: { reason: 'nghiệm thu không đạt' } }, admin);
  await history.append(
    programmeStream(PROGRAMME),
    { type: 'BudgetReleased', data: { programmeId: PROGRAMME, applicationId: 'a2', category: 'demonstration_model', amount: 180 * M, reason: 'closed' } },
    admin,
  );

  await history.submit('a3', 'advanced_equipment', { name: 'Hộ kinh doanh Nguyễn Văn Bình', district: 'Chương Mỹ', kind: 'household' }, { expectedOutcomes: { new_designs: 100 } });
  await history.append(applicationStream('a3'), { type: 'RevisionRequested', data: { reason: 'thiếu báo giá', reviewerId: reviewer.id } }, reviewer);
  await history.append(
    applicationStream('a3'),
    { type: 'ApplicationAmended', data: { project: { title: 'Máy cắt laser', description: '…', totalCost: 500 * M, requestedAmount: 150 * M, expectedOutcomes: {} } } },
    { id: 'owner-a3', role: 'applicant' },
  );
  await history.review('a3', 40);
  await history.append(applicationStream('a3'), { type: 'ApplicationRejected', data: { reason: 'điểm thấp', rejectedBy: committee.id } }, committee);

  await history.submit('a4', 'vocational_training', { name: 'Cơ sở dệt lụa Vạn Phúc', district: 'Ứng Hòa' }, { expectedOutcomes: { workers_trained: 50 } });
  await history.append(applicationStream('a4'), { type: 'ApplicationWithdrawn', data: { reason: 'đổi kế hoạch' } }, { id: 'owner-a4', role: 'applicant' });
}

/** a5 approved, not paid yet; a6 and a7 in another programme, submitted at the same instant. */
export async function secondHalf(history: History): Promise<void> {
  // The same facility (tax code) as a1: one supported facility in 2024, not two.
  await history.submit('a5', 'advanced_equipment', { name: 'Công ty CP Gốm Bát Tràng', district: 'Thường Tín', taxCode: '0101000001' }, {
    expectedOutcomes: { facilities_equipped: 1, jobs_created: 5 },
  });
  await history.review('a5', 90);
  await history.approve('a5', 'advanced_equipment', 200 * M);

  await history.openProgramme('HN-2024-national', { trade_fair: 300 * M }, 2024, 'national');
  await history.submit('a7', 'trade_fair', { name: 'Làng nghề Chuông', district: 'Thanh Oai' }, {}, 'HN-2024-national', '2024-06-01T00:00:00.000Z');
  await history.submit('a6', 'trade_fair', { name: 'Làng nghề Quảng Phú Cầu', district: 'Ứng Hòa' }, {}, 'HN-2024-national', '2024-06-01T00:00:00.000Z');
}
