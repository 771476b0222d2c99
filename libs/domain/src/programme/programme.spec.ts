import { DEFAULT_CAPS } from '../shared/regulations';
import { specificationFor } from '../testing/specification';
import {
  ApprovalDecision,
  decideProgramme,
  evolveProgramme,
  foldProgramme,
  initialProgrammeState,
  ProgrammeCommand,
  ProgrammeEvent,
} from './programme';

const spec = specificationFor<ProgrammeCommand, ProgrammeEvent, ReturnType<typeof initialProgrammeState>>({
  decide: decideProgramme,
  evolve: evolveProgramme,
  initialState: initialProgrammeState,
  fold: foldProgramme,
});

const programmeId = 'HN-2024-city';
const decision = (approvedAmount: number, decisionNumber = 'QĐ-1'): ApprovalDecision => ({
  decisionNumber,
  decisionDate: '2024-05-02',
  approvedAmount,
  approvedBy: 'committee-1',
});

const opened: ProgrammeEvent = {
  type: 'ProgrammeOpened',
  data: { programmeId, name: 'Kế hoạch khuyến công 2024', year: 2024, fundingSource: 'city', caps: DEFAULT_CAPS, advanceShare: 0.7 },
};
const allocated: ProgrammeEvent = { type: 'BudgetAllocated', data: { programmeId, category: 'advanced_equipment', amount: 1_000_000_000 } };
const committed = (applicationId: string, amount: number, decisionNumber = 'QĐ-1'): ProgrammeEvent => ({
  type: 'BudgetCommitted',
  data: { programmeId, applicationId, category: 'advanced_equipment', amount, decision: decision(amount, decisionNumber) },
});
const released = (applicationId: string, amount: number, reason = 'closed'): ProgrammeEvent => ({
  type: 'BudgetReleased',
  data: { programmeId, applicationId, category: 'advanced_equipment', amount, reason },
});
const commit = (applicationId: string, amount: number, decisionNumber = 'QĐ-1'): ProgrammeCommand => ({
  type: 'CommitBudget',
  data: { applicationId, category: 'advanced_equipment', amount, decision: decision(amount, decisionNumber) },
});

describe('Programme', () => {
  describe('opening', () => {
    it('opens with default caps, the allocations and the targets', () =>
      spec
        .given([])
        .when({
          type: 'OpenProgramme',
          data: {
            programmeId,
            name: 'Kế hoạch khuyến công 2024',
            year: 2024,
            fundingSource: 'city',
            allocations: { advanced_equipment: 1_000_000_000 },
            targets: { new_designs: { min: 650, max: 800 } },
          },
        })
        .then([opened, allocated, { type: 'TargetsSet', data: { programmeId, targets: { new_designs: { min: 650, max: 800 } } } }]));

    it('lets a programme override a cap and the advance share', () => {
      const events = decideProgramme(
        {
          type: 'OpenProgramme',
          data: {
            programmeId,
            name: 'x',
            year: 2024,
            fundingSource: 'national',
            allocations: {},
            caps: { advanced_equipment: { maxAmount: 200_000_000 } },
            advanceShare: 0.5,
          },
        },
        initialProgrammeState(),
      );
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        data: { advanceShare: 0.5, caps: { advanced_equipment: { maxShareOfCost: 0.5, maxAmount: 200_000_000 } } },
      });
    });

    it('refuses to open a programme twice', () =>
      spec
        .given([opened])
        .when({ type: 'OpenProgramme', data: { programmeId, name: 'x', year: 2024, fundingSource: 'city', allocations: {} } })
        .thenRefuses('invalid_transition', /already exists/));

    it('refuses fractional money', () =>
      spec
        .given([])
        .when({ type: 'OpenProgramme', data: { programmeId, name: 'x', year: 2024, fundingSource: 'city', allocations: { consulting: 10.5 } } })
        .thenRefuses('invalid_input', /whole/));

    it('refuses a target whose min exceeds its max', () =>
      spec
        .given([opened])
        .when({ type: 'SetTargets', data: { targets: { new_designs: { min: 900, max: 800 } } } })
        .thenRefuses('invalid_input', /min must not exceed max/));

    it('refuses an advance share above 1', () =>
      spec
        .given([])
        .when({ type: 'OpenProgramme', data: { programmeId, name: 'x', year: 2024, fundingSource: 'city', allocations: {}, advanceShare: 1.5 } })
        .thenRefuses('invalid_input', /advanceShare/));
  });

  describe('allocating', () => {
    it('changes an allocation', () =>
      spec
        .given([opened, allocated])
        .when({ type: 'AllocateBudget', data: { category: 'advanced_equipment', amount: 2_000_000_000 } })
        .then([{ type: 'BudgetAllocated', data: { programmeId, category: 'advanced_equipment', amount: 2_000_000_000 } }]));

    it('refuses to allocate less than is already committed', () =>
      spec
        .given([opened, allocated, committed('a1', 600_000_000)])
        .when({ type: 'AllocateBudget', data: { category: 'advanced_equipment', amount: 500_000_000 } })
        .thenRefuses('business_rule', /already committed/));

    it('refuses commands on a programme that does not exist', () =>
      spec.given([]).when(commit('a1', 1)).thenRefuses('not_found'));
  });

  describe('committing budget (invariant 3)', () => {
    it('commits within the allocation', () =>
      spec.given([opened, allocated]).when(commit('a1', 300_000_000)).then([committed('a1', 300_000_000)]));

    it('commits exactly what is left', () =>
      spec
        .given([opened, allocated, committed('a1', 700_000_000)])
        .when(commit('a2', 300_000_000))
        .then([committed('a2', 300_000_000)]));

    it('refuses a commitment beyond what is available', () =>
      spec
        .given([opened, allocated, committed('a1', 700_000_000)])
        .when(commit('a2', 300_000_001))
        .thenRefuses('business_rule', /Budget exhausted: advanced_equipment has 300000000 VND available/));

    it('refuses a commitment in a category without allocation', () =>
      spec
        .given([opened, allocated])
        .when({ type: 'CommitBudget', data: { applicationId: 'a1', category: 'consulting', amount: 1, decision: decision(1) } })
        .thenRefuses('business_rule', /exhausted/));

    it('counts released budget as available again', () =>
      spec
        .given([opened, allocated, committed('a1', 1_000_000_000), released('a1', 400_000_000)])
        .when(commit('a2', 400_000_000))
        .then([committed('a2', 400_000_000)]));

    it('is idempotent for the same application and decision (a retried approval)', () =>
      spec.given([opened, allocated, committed('a1', 300_000_000)]).when(commit('a1', 300_000_000)).thenNothingHappens());

    it('refuses a second, different commitment for an application', () =>
      spec
        .given([opened, allocated, committed('a1', 300_000_000)])
        .when(commit('a1', 300_000_000, 'QĐ-2'))
        .thenRefuses('business_rule', /already committed for application a1/));

    it('commits again once an earlier commitment was fully released', () =>
      spec
        .given([opened, allocated, committed('a1', 300_000_000), released('a1', 300_000_000)])
        .when(commit('a1', 200_000_000, 'QĐ-2'))
        .then([committed('a1', 200_000_000, 'QĐ-2')]));
  });

  describe('releasing budget', () => {
    it('releases what is committed beyond what is kept (e.g. paid)', () =>
      spec
        .given([opened, allocated, committed('a1', 300_000_000)])
        .when({ type: 'ReleaseBudget', data: { applicationId: 'a1', keep: 210_000_000, reason: 'closed' } })
        .then([released('a1', 90_000_000)]));

    it('does nothing when nothing is left to release', () =>
      spec
        .given([opened, allocated, committed('a1', 300_000_000), released('a1', 90_000_000)])
        .when({ type: 'ReleaseBudget', data: { applicationId: 'a1', keep: 210_000_000, reason: 'closed' } })
        .thenNothingHappens());

    it('does nothing for an application without a commitment', () =>
      spec
        .given([opened, allocated])
        .when({ type: 'ReleaseBudget', data: { applicationId: 'zz', keep: 0, reason: 'rejected' } })
        .thenNothingHappens());
  });

  describe('folding many events at once', () => {
    const stream = [opened, allocated, committed('a1', 300), committed('a2', 200), released('a1', 100), released('zz', 5), committed('a3', 50)];
    const oneByOne = (events: ProgrammeEvent[]) => events.reduce(evolveProgramme, initialProgrammeState());

    it('given a plan year of commitments and releases, when folded at once, then the state is the one evolve gives event by event', () =>
      expect(foldProgramme(initialProgrammeState(), stream)).toEqual(oneByOne(stream)));

    it('given a folded state, when more commitments are folded onto it, then that state keeps only its own', () => {
      const earlier = foldProgramme(initialProgrammeState(), stream.slice(0, 4));
      const later = foldProgramme(earlier, stream.slice(4));
      expect(earlier.status === 'open' && Object.keys(earlier.commitments)).toEqual(['a1', 'a2']);
      expect(earlier).toEqual(oneByOne(stream.slice(0, 4)));
      expect(later).toEqual(oneByOne(stream));
    });

    it('given thousands of approvals, when folded, then every commitment is there', () => {
      const approvals = Array.from({ length: 10_000 }, (_, i) => committed(`a${i}`, 1));
      const state = foldProgramme(initialProgrammeState(), [opened, allocated, ...approvals]);
      expect(state.status === 'open' && Object.keys(state.commitments).length).toBe(10_000);
    });
  });
});
