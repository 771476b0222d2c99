import { randomUUID } from 'node:crypto';
import {
  Applicant,
  ApplicationCommand,
  ApplicationEvent,
  ApplicationState,
  CATEGORIES,
  Category,
  DEFAULT_CAPS,
  Project,
  ProgrammeCommand,
  ProgrammeEvent,
  ProgrammeState,
  Rating,
  applicationStream,
  capFor,
  decideApplication,
  decideProgramme,
  evolveApplication,
  evolveProgramme,
  initialApplicationState,
  initialProgrammeState,
  programmeStream,
  shareOf,
} from '@kcflow/domain';
import type { EventMetadata, NewEvent } from '@kcflow/event-store';
import { SCHEMA_VERSION, hashEvent } from '@kcflow/workflow';
import { FAMILY_NAMES, GIVEN_NAMES, PLACES, PROJECT_SHAPES } from '../../scripts/demo/hanoi-2024';

/**
 * Realistic lifecycles without the HTTP round trips: every event comes from the domain's own
 * deciders (`decideApplication`, `decideProgramme`) folded with its `evolve`, and is stamped
 * as the CommandLoop stamps it (metadata, hash chain). Stages follow the demo seed's weights.
 */

/** mulberry32, as in scripts/seed-demo.ts: the same seed gives the same data. */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const STAGE_WEIGHTS = {
  submitted: 14,
  revision_requested: 8,
  reviewed: 12,
  approved: 20,
  evaluated: 16,
  closed: 16,
  rejected: 8,
  withdrawn: 6,
} as const;
export type Stage = keyof typeof STAGE_WEIGHTS;

const roundTo = (value: number, unit: number) => Math.max(unit, Math.floor(value / unit) * unit);

/** Large enough that no approval is refused for budget: the benchmarks measure throughput, not exhaustion. */
export const BENCH_ALLOCATION = 100_000_000_000_000;

export function openProgrammeCommand(programmeId: string, year: number): Extract<ProgrammeCommand, { type: 'OpenProgramme' }> {
  return {
    type: 'OpenProgramme',
    data: {
      programmeId,
      name: `Kế hoạch khuyến công năm ${year} (bench ${programmeId})`,
      year,
      fundingSource: year % 2 === 0 ? 'city' : 'national',
      allocations: Object.fromEntries(CATEGORIES.map((c) => [c, BENCH_ALLOCATION])),
      targets: { new_designs: { min: 650, max: 800 }, fair_participations: { min: 600, max: 650 }, facilities_equipped: { min: 10, max: 15 } },
    },
  };
}

/** What an applicant sends: the same shapes as the demo seed. */
export function applicationPayload(random: () => number, index: number, category: Category): { applicant: Applicant; project: Project } {
  const between = (min: number, max: number) => Math.round(min + random() * (max - min));
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const shape = PROJECT_SHAPES[category];
  const place = pick(PLACES);
  const kind = pick(['enterprise', 'cooperative', 'household'] as const);
  const owner = `${pick(FAMILY_NAMES)} ${pick(GIVEN_NAMES)}`;
  const name =
    kind === 'household'
      ? `Hộ kinh doanh ${owner}`
      : kind === 'cooperative'
        ? `HTX ${place.craft} ${place.craftVillage ?? place.commune}`
        : `Công ty TNHH ${place.craft} ${place.commune} ${index}`;
  const totalCost = roundTo(between(...shape.cost), 1_000_000);
  const requestedAmount = roundTo(Math.min(capFor({ totalCost }, DEFAULT_CAPS[category]), totalCost * (0.3 + random() * 0.5)), 1_000_000);
  const expectedOutcomes = Object.fromEntries(Object.entries(shape.outcomes).map(([indicator, [min, max]]) => [indicator, between(min, max)]));
  return {
    applicant: {
      name,
      taxCode: String(1_000_000_000 + ((index * 7919) % 8_999_999_999)).slice(0, 10),
      kind,
      district: place.district,
      commune: place.commune,
      ...(place.craftVillage ? { craftVillage: place.craftVillage } : {}),
    },
    project: {
      title: `${shape.title} — ${place.craft}`,
      description: `Dự án ${shape.title.toLowerCase()} tại ${place.commune}, ${place.district}`,
      totalCost,
      requestedAmount,
      expectedOutcomes,
    },
  };
}

export interface Actor {
  id: string;
  role: string;
}

/** An event as the store would hold it, with its stream and revision. */
export interface GeneratedEvent extends NewEvent {
  streamId: string;
  revision: number;
}

interface Chain {
  revision: number;
  hash: string;
}

/** Stamps decided events as CommandLoop.stamp does, numbering revisions on per stream. */
export class Stamper {
  private readonly chains = new Map<string, Chain>();

  stamp(streamId: string, decided: readonly { type: string; data: object }[], actor: Actor, at: Date, correlationId: string = randomUUID()): GeneratedEvent[] {
    const chain = this.chains.get(streamId) ?? { revision: -1, hash: '' };
    const occurredAt = at.toISOString();
    const out = decided.map((event) => {
      const metadata: EventMetadata = {
        actorId: actor.id,
        role: actor.role,
        correlationId,
        causationId: correlationId,
        occurredAt,
        schemaVersion: SCHEMA_VERSION,
        prevHash: chain.hash,
      };
      const unsealed = { id: randomUUID(), type: event.type, data: event.data as Record<string, unknown>, metadata };
      chain.hash = hashEvent(unsealed);
      chain.revision += 1;
      return { ...unsealed, metadata: { ...metadata, hash: chain.hash }, streamId, revision: chain.revision };
    });
    this.chains.set(streamId, chain);
    return out;
  }

  /** Forget a stream that will get no more events (keeps memory flat over a million events). */
  forget(streamId: string): void {
    this.chains.delete(streamId);
  }
}

type WithoutActor<C> = C extends unknown ? Omit<C, 'actor'> : never;

interface Step {
  at: number;
  seq: number;
  streamId: string;
  events: { type: string; data: object }[];
  actor: Actor;
  correlationId: string;
}

export interface GeneratorOptions {
  seed: number;
  programmes: number;
  /** Prefix of programme ids, so runs never collide. */
  prefix: string;
  /** Simulated time when the first programme opens. */
  start?: Date;
}

/**
 * Yields the events of many applications in the order they would have been recorded: each
 * chunk of applications spans a window of simulated time in which their steps interleave
 * (submissions, appraisals, decisions, payments of different applications mixed), and a
 * programme's commitments and releases land between its applications' events.
 */
export class LifecycleGenerator {
  readonly programmeIds: string[];
  private readonly programmes = new Map<string, ProgrammeState>();
  private readonly stamper = new Stamper();
  private readonly random: () => number;
  private readonly start: number;
  private nextApplication = 0;
  private chunkIndex = 0;
  readonly stages: Record<Stage, number> = { submitted: 0, revision_requested: 0, reviewed: 0, approved: 0, evaluated: 0, closed: 0, rejected: 0, withdrawn: 0 };

  constructor(private readonly options: GeneratorOptions) {
    this.random = prng(options.seed);
    this.start = (options.start ?? new Date('2015-01-05T01:00:00Z')).getTime();
    this.programmeIds = Array.from({ length: options.programmes }, (_, i) => `${options.prefix}-P${String(i + 1).padStart(4, '0')}`);
  }

  get applications(): number {
    return this.nextApplication;
  }

  /** The opening of every programme (ProgrammeOpened, BudgetAllocated ×8, TargetsSet). */
  openProgrammes(): GeneratedEvent[] {
    const admin = { id: 'admin-1', role: 'admin' };
    return this.programmeIds.flatMap((id, i) => {
      const year = 2015 + (i % 10);
      const decided = decideProgramme(openProgrammeCommand(id, year), initialProgrammeState());
      this.programmes.set(id, decided.reduce(evolveProgramme, initialProgrammeState()));
      return this.stamper.stamp(programmeStream(id), decided, admin, new Date(this.start + i * 1000));
    });
  }

  /** The next `applications` applications, their events sorted by simulated time. */
  chunk(applications: number): GeneratedEvent[] {
    const window = 30 * 24 * 3600 * 1000; // a month of simulated time per chunk
    const base = this.start + 3600_000 + this.chunkIndex++ * window;
    const steps: Step[] = [];
    let seq = 0;
    for (let n = 0; n < applications; n++) {
      const index = this.nextApplication++;
      for (const step of this.lifecycle(index, base + this.random() * (window / 2), window / 20)) steps.push({ ...step, seq: seq++ });
    }
    steps.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const out: GeneratedEvent[] = [];
    for (const step of steps) out.push(...this.stamper.stamp(step.streamId, step.events, step.actor, new Date(step.at), step.correlationId));
    return out;
  }

  /** Lets go of the hash chains of applications that can get no more events (a chunk is complete). */
  forgetApplications(events: readonly GeneratedEvent[]): void {
    for (const event of events) if (event.streamId.startsWith('application-')) this.stamper.forget(event.streamId);
  }

  private lifecycle(index: number, submittedAt: number, gap: number): Omit<Step, 'seq'>[] {
    const random = this.random;
    const pickWeighted = (): Stage => {
      const entries = Object.entries(STAGE_WEIGHTS) as [Stage, number][];
      let roll = random() * 100;
      for (const [stage, weight] of entries) if ((roll -= weight) < 0) return stage;
      return 'submitted';
    };
    const stage = pickWeighted();
    this.stages[stage] += 1;
    const programmeId = this.programmeIds[index % this.programmeIds.length];
    const category = CATEGORIES[Math.floor(random() * CATEGORIES.length)];
    const applicationId = `${this.options.prefix}-A${index}`;
    const stream = applicationStream(applicationId);
    const programme = this.programmes.get(programmeId)! as Extract<ProgrammeState, { status: 'open' }>;
    const { applicant, project } = applicationPayload(random, index, category);
    const applicantActor = { id: `facility-${index}`, role: 'applicant' };
    const reviewer = { id: `reviewer-${1 + (index % 12)}`, role: 'reviewer' };
    const committee = { id: 'committee-1', role: 'committee' };
    const finance = { id: 'finance-1', role: 'finance' };
    const admin = { id: 'admin-1', role: 'admin' };

    const steps: Omit<Step, 'seq'>[] = [];
    let state: ApplicationState = initialApplicationState();
    let at = submittedAt;
    const act = (actor: Actor, command: WithoutActor<ApplicationCommand>, correlationId: string = randomUUID()) => {
      const decided = decideApplication({ ...command, actor: { id: actor.id } } as ApplicationCommand, state);
      state = decided.reduce(evolveApplication, state);
      steps.push({ at, streamId: stream, events: decided, actor, correlationId });
      at += gap * (0.2 + random());
    };
    const onProgramme = (actor: Actor, command: ProgrammeCommand, correlationId: string) => {
      const decided = decideProgramme(command, this.programmes.get(programmeId)!);
      this.programmes.set(programmeId, decided.reduce(evolveProgramme as (s: ProgrammeState, e: ProgrammeEvent) => ProgrammeState, this.programmes.get(programmeId)!));
      if (decided.length > 0) steps.push({ at: at - 1, streamId: programmeStream(programmeId), events: decided, actor, correlationId });
    };

    act(applicantActor, {
      type: 'SubmitApplication',
      data: {
        applicationId,
        applicant,
        project,
        programme: { programmeId, category, cap: programme.caps[category], advanceShare: programme.advanceShare, categoryFunded: true },
      },
    });
    if (stage === 'submitted') return steps;
    if (stage === 'revision_requested' || random() < 0.25) {
      act(reviewer, { type: 'RequestRevision', data: { reason: 'Bổ sung báo giá và hồ sơ pháp lý' } });
      if (stage === 'revision_requested') return steps;
      act(applicantActor, { type: 'AmendApplication', data: { project } });
    }
    if (stage === 'withdrawn') {
      act(applicantActor, { type: 'WithdrawApplication', data: { reason: 'Cơ sở thay đổi kế hoạch sản xuất' } });
      return steps;
    }
    const recommendedAmount = roundTo(project.requestedAmount * (0.8 + random() * 0.2), 1_000_000);
    act(reviewer, {
      type: 'ReviewApplication',
      data: {
        score: stage === 'rejected' ? 20 + Math.floor(random() * 30) : 60 + Math.floor(random() * 36),
        recommendation: stage === 'rejected' ? 'reject' : 'approve',
        recommendedAmount,
        priority: { womenLed: random() < 0.3, ethnicMinority: random() < 0.05 },
      },
    });
    if (stage === 'reviewed') return steps;
    if (stage === 'rejected') {
      act(committee, { type: 'RejectApplication', data: { reason: 'Không đáp ứng tiêu chí hỗ trợ', decisionNumber: `${1000 + index}/QĐ-UBND` } });
      return steps;
    }
    // Approval: the commitment on the programme stream first, then the decision (ApproveApplicationHandler).
    const decisionNumber = `${2000 + index}/QĐ-UBND`;
    const decisionDate = new Date(at).toISOString().slice(0, 10);
    const approval = randomUUID();
    onProgramme(
      committee,
      { type: 'CommitBudget', data: { applicationId, category, amount: recommendedAmount, decision: { decisionNumber, decisionDate, approvedAmount: recommendedAmount, approvedBy: committee.id } } },
      approval,
    );
    act(committee, { type: 'ApproveApplication', data: { decisionNumber, decisionDate, approvedAmount: recommendedAmount, advanceShare: programme.advanceShare } }, approval);
    const advance = shareOf(recommendedAmount, programme.advanceShare);
    act(finance, { type: 'DisburseFunds', data: { paymentRef: `KBNN-${applicationId}-1`, amount: advance, paidAt: new Date(at).toISOString().slice(0, 10) } });
    if (stage === 'approved') return steps;
    const roll = random();
    const rating: Rating = roll < 0.85 ? 'achieved' : roll < 0.93 ? 'partially_achieved' : 'not_achieved';
    const factor = rating === 'achieved' ? 1 : rating === 'partially_achieved' ? 0.6 : 0.2;
    const outcomes = Object.fromEntries(Object.entries(project.expectedOutcomes).map(([k, v]) => [k, Math.floor((v ?? 0) * factor)]));
    act(reviewer, { type: 'EvaluateOutcome', data: { outcomes, rating, notes: 'Nghiệm thu tại cơ sở' } });
    if (rating !== 'not_achieved') {
      act(finance, { type: 'DisburseFunds', data: { paymentRef: `KBNN-${applicationId}-2`, amount: recommendedAmount - advance, paidAt: new Date(at).toISOString().slice(0, 10) } });
    }
    if (stage === 'evaluated') return steps;
    const closure = randomUUID();
    act(admin, { type: 'CloseApplication', data: { reason: 'Quyết toán hoàn thành' } }, closure);
    // Closure releases what was committed but not paid (CloseApplication's handler).
    const paid = (state as Extract<ApplicationState, { disbursedAmount: number }>).disbursedAmount;
    at += 1;
    onProgramme(admin, { type: 'ReleaseBudget', data: { applicationId, keep: paid, reason: 'closed' } }, closure);
    return steps;
  }
}

/** Applications per programme in generated data: about a plan year's worth. */
export const APPLICATIONS_PER_PROGRAMME = 1_000;
/** Events per application with STAGE_WEIGHTS (measured: see RESULTS.md). */
export const EVENTS_PER_APPLICATION = 4.7;
