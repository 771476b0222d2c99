import { DEFAULT_CAPS } from '../shared/regulations';
import { specificationFor } from '../testing/specification';
import {
  ApplicationCommand,
  ApplicationEvent,
  ApplicationState,
  decideApplication,
  evolveApplication,
  foldApplication,
  initialApplicationState,
  Project,
  ProgrammeTerms,
} from './application';

const spec = specificationFor<ApplicationCommand, ApplicationEvent, ApplicationState>({
  decide: decideApplication,
  evolve: evolveApplication,
  initialState: initialApplicationState,
  fold: foldApplication,
});

const owner = { id: 'applicant-phu-vinh' };
const otherApplicant = { id: 'applicant-other' };
const reviewer = { id: 'reviewer-1' };
const committee = { id: 'committee-1' };
const finance = { id: 'finance-1' };
const admin = { id: 'admin-1' };

const cap = DEFAULT_CAPS.advanced_equipment; // 50% of cost, at most 300,000,000
const applicant = {
  name: 'HTX Mây tre Phú Vinh',
  taxCode: '0101234567',
  kind: 'cooperative' as const,
  district: 'Chương Mỹ',
  commune: 'Phú Nghĩa',
  craftVillage: 'Phú Vinh',
};
const project: Project = {
  title: 'Máy chẻ nan tự động',
  description: 'Đầu tư máy chẻ nan',
  totalCost: 500_000_000,
  requestedAmount: 250_000_000,
  expectedOutcomes: { jobs_created: 12, facilities_equipped: 1 },
};
const terms: ProgrammeTerms = { programmeId: 'HN-2024-city', category: 'advanced_equipment', cap, advanceShare: 0.7, categoryFunded: true };

const submitted: ApplicationEvent = {
  type: 'ApplicationSubmitted',
  data: { applicationId: 'app-1', programmeId: 'HN-2024-city', category: 'advanced_equipment', ownerId: owner.id, applicant, project, cap },
};
const revisionRequested: ApplicationEvent = { type: 'RevisionRequested', data: { reason: 'Thiếu báo giá', reviewerId: reviewer.id } };
const reviewed: ApplicationEvent = {
  type: 'ApplicationReviewed',
  data: { score: 82, recommendation: 'approve', recommendedAmount: 200_000_000, reviewerId: reviewer.id },
};
const approved: ApplicationEvent = {
  type: 'ApplicationApproved',
  data: { decisionNumber: 'QĐ-123/UBND', decisionDate: '2024-05-02', approvedAmount: 200_000_000, advanceShare: 0.7, approvedBy: committee.id },
};
const paid = (paymentRef: string, amount: number): ApplicationEvent => ({
  type: 'FundsDisbursed',
  data: { paymentRef, amount, paidAt: '2024-06-01' },
});
const evaluated = (rating: 'achieved' | 'partially_achieved' | 'not_achieved'): ApplicationEvent => ({
  type: 'OutcomeEvaluated',
  data: { outcomes: { jobs_created: 10, facilities_equipped: 1 }, rating, evaluatorId: reviewer.id },
});
const closed: ApplicationEvent = { type: 'ApplicationClosed', data: {} };
const rejected: ApplicationEvent = { type: 'ApplicationRejected', data: { reason: 'Không đủ điều kiện', rejectedBy: committee.id } };
const withdrawn: ApplicationEvent = { type: 'ApplicationWithdrawn', data: { reason: 'Đổi kế hoạch' } };
const recused: ApplicationEvent = { type: 'ReviewerRecused', data: { reviewerId: reviewer.id, reason: 'Người thân' } };

const submit = (overrides: Partial<Project> = {}, programme: Partial<ProgrammeTerms> = {}): ApplicationCommand => ({
  type: 'SubmitApplication',
  actor: owner,
  data: { applicationId: 'app-1', applicant, project: { ...project, ...overrides }, programme: { ...terms, ...programme } },
});
const review: ApplicationCommand = {
  type: 'ReviewApplication',
  actor: reviewer,
  data: { score: 82, recommendation: 'approve', recommendedAmount: 200_000_000 },
};
const approve = (approvedAmount = 200_000_000, actor = committee): ApplicationCommand => ({
  type: 'ApproveApplication',
  actor,
  data: { decisionNumber: 'QĐ-123/UBND', decisionDate: '2024-05-02', approvedAmount, advanceShare: 0.7 },
});
const reject: ApplicationCommand = { type: 'RejectApplication', actor: committee, data: { reason: 'Không đủ điều kiện' } };
const withdraw = (actor = owner): ApplicationCommand => ({ type: 'WithdrawApplication', actor, data: { reason: 'Đổi kế hoạch' } });
const disburse = (paymentRef: string, amount: number): ApplicationCommand => ({
  type: 'DisburseFunds',
  actor: finance,
  data: { paymentRef, amount, paidAt: '2024-06-01' },
});
const evaluate = (rating: 'achieved' | 'partially_achieved' | 'not_achieved' = 'achieved', actor = reviewer): ApplicationCommand => ({
  type: 'EvaluateOutcome',
  actor,
  data: { outcomes: { jobs_created: 10, facilities_equipped: 1 }, rating },
});
const close: ApplicationCommand = { type: 'CloseApplication', actor: admin, data: {} };
const requestRevision = (actor = reviewer): ApplicationCommand => ({ type: 'RequestRevision', actor, data: { reason: 'Thiếu báo giá' } });
const amend = (actor = owner, overrides: Partial<Project> = {}): ApplicationCommand => ({
  type: 'AmendApplication',
  actor,
  data: { project: { ...project, totalCost: 600_000_000, ...overrides } },
});
const recuse: ApplicationCommand = { type: 'RecuseReviewer', actor: reviewer, data: { reason: 'Người thân' } };

describe('Application', () => {
  describe('submission', () => {
    it('records a valid application', () => spec.given([]).when(submit()).then([submitted]));

    it('refuses a second submission with the same id', () =>
      spec.given([submitted]).when(submit()).thenRefuses('invalid_transition', /already exists/));

    it('refuses a request above the total cost (invariant 2)', () =>
      spec.given([]).when(submit({ requestedAmount: 600_000_000 })).thenRefuses('business_rule', /exceeds the total cost/));

    it('refuses a request above the share cap (50% of cost for equipment)', () =>
      spec.given([]).when(submit({ requestedAmount: 250_000_001 })).thenRefuses('business_rule', /category cap .*250000000/));

    it('refuses a request above the amount cap (300,000,000 for equipment)', () =>
      spec
        .given([])
        .when(submit({ totalCost: 1_000_000_000, requestedAmount: 300_000_001 }))
        .thenRefuses('business_rule', /category cap .*300000000/));

    it('refuses fractional VND', () => spec.given([]).when(submit({ requestedAmount: 1.5 })).thenRefuses('invalid_input', /whole/));

    it('refuses a zero cost', () => spec.given([]).when(submit({ totalCost: 0, requestedAmount: 0 })).thenRefuses('invalid_input'));

    it('refuses a category the programme does not fund', () =>
      spec.given([]).when(submit({}, { categoryFunded: false })).thenRefuses('business_rule', /allocates no budget/));
  });

  describe('revision', () => {
    it('a reviewer asks for a revision of a submitted application', () =>
      spec.given([submitted]).when(requestRevision()).then([revisionRequested]));

    it('the owner amends and the application is submitted again', () => {
      spec
        .given([submitted, revisionRequested])
        .when(amend())
        .then([{ type: 'ApplicationAmended', data: { project: { ...project, totalCost: 600_000_000 } } }]);
      const state = [submitted, revisionRequested, ...decideApplication(amend(), [submitted, revisionRequested].reduce(evolveApplication, initialApplicationState()))]
        .reduce(evolveApplication, initialApplicationState());
      expect(state.status).toBe('submitted');
    });

    it('another applicant may not amend', () =>
      spec.given([submitted, revisionRequested]).when(amend(otherApplicant)).thenRefuses('forbidden', /another applicant/));

    it('an amendment is held to the caps too', () =>
      spec.given([submitted, revisionRequested]).when(amend(owner, { requestedAmount: 400_000_000 })).thenRefuses('business_rule'));

    it('cannot amend unless a revision was asked for', () =>
      spec.given([submitted]).when(amend()).thenRefuses('invalid_transition', /Cannot amend an application that is submitted/));

    it('cannot ask for a revision once approved', () =>
      spec.given([submitted, reviewed, approved]).when(requestRevision()).thenRefuses('invalid_transition'));
  });

  describe('review', () => {
    it('records the appraisal', () => spec.given([submitted]).when(review).then([reviewed]));

    it('refuses a score out of range', () =>
      spec
        .given([submitted])
        .when({ ...review, data: { ...review.data, score: 101 } } as ApplicationCommand)
        .thenRefuses('invalid_input', /score/));

    it('refuses a recommended amount above the request', () =>
      spec
        .given([submitted])
        .when({ type: 'ReviewApplication', actor: reviewer, data: { score: 50, recommendation: 'approve', recommendedAmount: 250_000_001 } })
        .thenRefuses('business_rule', /recommended amount/));

    it('refuses a second review', () => spec.given([submitted, reviewed]).when(review).thenRefuses('invalid_transition'));

    it('refuses to review an application waiting for a revision', () =>
      spec.given([submitted, revisionRequested]).when(review).thenRefuses('invalid_transition'));

    it('refuses an unknown application', () => spec.given([]).when(review).thenRefuses('not_found'));
  });

  describe('committee decision', () => {
    it('approves a reviewed application', () => spec.given([submitted, reviewed]).when(approve()).then([approved]));

    it('refuses to approve before review', () =>
      spec.given([submitted]).when(approve()).thenRefuses('invalid_transition', /Cannot approve an application that is submitted/));

    it('refuses to approve more than was requested (invariant 2)', () =>
      spec.given([submitted, reviewed]).when(approve(250_000_001)).thenRefuses('business_rule', /exceeds the requested amount/));

    it('refuses to approve above the cap', () => {
      const bigProject: ApplicationEvent = {
        ...submitted,
        data: { ...(submitted.data as object), project: { ...project, totalCost: 2_000_000_000, requestedAmount: 300_000_000 } },
      } as ApplicationEvent;
      const lowerCap: ApplicationEvent = {
        ...bigProject,
        data: { ...(bigProject.data as object), cap: { maxShareOfCost: 0.5, maxAmount: 100_000_000 } },
      } as ApplicationEvent;
      spec.given([lowerCap, reviewed]).when(approve(150_000_000)).thenRefuses('business_rule', /category cap/);
    });

    it('refuses to approve twice', () => spec.given([submitted, reviewed, approved]).when(approve()).thenRefuses('invalid_transition'));

    it('rejects a reviewed application', () => spec.given([submitted, reviewed]).when(reject).then([rejected]));

    it('refuses to reject an approved application', () =>
      spec.given([submitted, reviewed, approved]).when(reject).thenRefuses('invalid_transition'));
  });

  describe('withdrawal', () => {
    it('the owner withdraws before approval', () => spec.given([submitted, reviewed]).when(withdraw()).then([withdrawn]));

    it('another applicant may not withdraw', () => spec.given([submitted]).when(withdraw(otherApplicant)).thenRefuses('forbidden'));

    it('refuses to withdraw after approval', () =>
      spec.given([submitted, reviewed, approved]).when(withdraw()).thenRefuses('invalid_transition'));

    it('nothing happens to a withdrawn application', () =>
      spec.given([submitted, withdrawn]).when(review).thenRefuses('invalid_transition', /withdrawn/));
  });

  describe('disbursement (invariant 4)', () => {
    it('pays an advance up to 70% of the approved amount before evaluation', () =>
      spec.given([submitted, reviewed, approved]).when(disburse('PAY-1', 140_000_000)).then([paid('PAY-1', 140_000_000)]));

    it('pays advances in tranches up to the advance share', () =>
      spec
        .given([submitted, reviewed, approved, paid('PAY-1', 100_000_000)])
        .when(disburse('PAY-2', 40_000_000))
        .then([paid('PAY-2', 40_000_000)]));

    it('refuses an advance beyond 70% before evaluation', () =>
      spec
        .given([submitted, reviewed, approved, paid('PAY-1', 100_000_000)])
        .when(disburse('PAY-2', 40_000_001))
        .thenRefuses('business_rule', /advance limit before evaluation \(140000000 VND\)/));

    it('pays the balance after an achieved evaluation', () =>
      spec
        .given([submitted, reviewed, approved, paid('PAY-1', 140_000_000), evaluated('achieved')])
        .when(disburse('PAY-2', 60_000_000))
        .then([paid('PAY-2', 60_000_000)]));

    it('never pays beyond the approved amount', () =>
      spec
        .given([submitted, reviewed, approved, paid('PAY-1', 140_000_000), evaluated('achieved')])
        .when(disburse('PAY-2', 60_000_001))
        .thenRefuses('business_rule', /approved amount \(200000000 VND\)/));

    it('pays nothing more after a not-achieved evaluation', () =>
      spec
        .given([submitted, reviewed, approved, paid('PAY-1', 140_000_000), evaluated('not_achieved')])
        .when(disburse('PAY-2', 1))
        .thenRefuses('business_rule', /not achieved/));

    it('is idempotent on the payment reference', () =>
      spec.given([submitted, reviewed, approved, paid('PAY-1', 100_000_000)]).when(disburse('PAY-1', 100_000_000)).thenNothingHappens());

    it('stays idempotent on the payment reference after closure', () =>
      spec
        .given([submitted, reviewed, approved, paid('PAY-1', 100_000_000), evaluated('achieved'), closed])
        .when(disburse('PAY-1', 100_000_000))
        .thenNothingHappens());

    it('refuses a reused payment reference with another amount', () =>
      spec
        .given([submitted, reviewed, approved, paid('PAY-1', 100_000_000)])
        .when(disburse('PAY-1', 90_000_000))
        .thenRefuses('business_rule', /already recorded with another amount/));

    it('refuses to pay an application that is not approved', () =>
      spec.given([submitted, reviewed]).when(disburse('PAY-1', 1)).thenRefuses('invalid_transition'));

    it('refuses to pay a closed application', () =>
      spec
        .given([submitted, reviewed, approved, evaluated('achieved'), closed])
        .when(disburse('PAY-9', 1))
        .thenRefuses('invalid_transition'));

    it('refuses a zero payment', () => spec.given([submitted, reviewed, approved]).when(disburse('PAY-1', 0)).thenRefuses('invalid_input'));

    it('tracks the payment status', () => {
      const state = [submitted, reviewed, approved, paid('PAY-1', 140_000_000)].reduce(evolveApplication, initialApplicationState());
      expect(state).toMatchObject({ paymentStatus: 'partial', disbursedAmount: 140_000_000 });
      const full = [paid('PAY-2', 60_000_000)].reduce(evolveApplication, state);
      expect(full).toMatchObject({ paymentStatus: 'full', disbursedAmount: 200_000_000 });
    });
  });

  describe('evaluation and closure', () => {
    it('evaluates an approved application', () =>
      spec.given([submitted, reviewed, approved]).when(evaluate()).then([evaluated('achieved')]));

    it('refuses to evaluate before approval', () => spec.given([submitted, reviewed]).when(evaluate()).thenRefuses('invalid_transition'));

    it('refuses a second evaluation', () =>
      spec.given([submitted, reviewed, approved, evaluated('achieved')]).when(evaluate()).thenRefuses('invalid_transition'));

    it('closes an evaluated application', () =>
      spec.given([submitted, reviewed, approved, evaluated('achieved')]).when(close).then([closed]));

    it('refuses to close before evaluation', () =>
      spec.given([submitted, reviewed, approved]).when(close).thenRefuses('invalid_transition', /allowed when evaluated/));

    it('refuses anything on a closed application', () =>
      spec.given([submitted, reviewed, approved, evaluated('achieved'), closed]).when(close).thenRefuses('invalid_transition'));
  });

  describe('recusal (conflict of interest)', () => {
    it('records the recusal', () => spec.given([submitted]).when(recuse).then([recused]));

    it('is idempotent', () => spec.given([submitted, recused]).when(recuse).thenNothingHappens());

    it('a recused reviewer may not review', () =>
      spec.given([submitted, recused]).when(review).thenRefuses('forbidden', /recused yourself.*Người thân/));

    it('a recused reviewer may not ask for a revision', () =>
      spec.given([submitted, recused]).when(requestRevision()).thenRefuses('forbidden'));

    it('a recused reviewer may not evaluate', () =>
      spec.given([submitted, recused, reviewed, approved]).when(evaluate()).thenRefuses('forbidden'));

    it('a recused actor who also sits on the committee may not approve', () =>
      spec.given([submitted, recused, reviewed]).when(approve(200_000_000, reviewer)).thenRefuses('forbidden'));

    it('another reviewer still may', () =>
      spec
        .given([submitted, recused])
        .when({ ...review, actor: { id: 'reviewer-2' } })
        .then([{ ...reviewed, data: { ...(reviewed.data as object), reviewerId: 'reviewer-2' } } as ApplicationEvent]));

    it('cannot recuse from a closed application', () =>
      spec.given([submitted, reviewed, approved, evaluated('achieved'), closed]).when(recuse).thenRefuses('invalid_transition'));
  });

  describe('folding many events at once', () => {
    const stream = [submitted, reviewed, approved, paid('KBNN-1', 10), recused, paid('KBNN-2', 20), paid('KBNN-3', 30)];
    const oneByOne = (events: ApplicationEvent[]) => events.reduce(evolveApplication, initialApplicationState());

    it('given a stream, when folded at once, then the state is the one evolve gives event by event', () =>
      expect(foldApplication(initialApplicationState(), stream)).toEqual(oneByOne(stream)));

    it('given a folded state, when more payments are folded onto it, then that state still lists only its own payments', () => {
      const earlier = foldApplication(initialApplicationState(), stream.slice(0, 4));
      const later = foldApplication(earlier, stream.slice(4));
      expect(earlier.status !== 'none' && earlier.disbursements.map((d) => d.paymentRef)).toEqual(['KBNN-1']);
      expect(earlier).toEqual(oneByOne(stream.slice(0, 4)));
      expect(later).toEqual(oneByOne(stream));
    });

    it('given thousands of tranches, when folded, then every one is there once, in order', () => {
      const payments = Array.from({ length: 20_000 }, (_, i) => paid(`KBNN-${i}`, 1));
      const state = foldApplication(initialApplicationState(), [submitted, reviewed, approved, ...payments]);
      expect(state.status !== 'none' && [state.disbursedAmount, state.disbursements.length, state.disbursements[19_999].paymentRef]).toEqual([
        20_000,
        20_000,
        'KBNN-19999',
      ]);
    });

    it('given no events, when folded, then the state is the one it started from', () =>
      expect(foldApplication(initialApplicationState(), [])).toEqual({ status: 'none' }));
  });
});
