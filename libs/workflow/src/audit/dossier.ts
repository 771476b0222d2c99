import { Inject } from '@nestjs/common';
import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { Application, ApplicationEvent, applicationStream, programmeStream, refuse } from '@kcflow/domain';
import type { EventStore, RecordedEvent } from '@kcflow/event-store/port';
import { applicationView, ApplicationView } from '../applications/application-view';
import { applicationAggregate } from '../shared/aggregates';
import { Clock } from '../shared/command-context';
import { CLOCK, EVENT_STORE } from '../shared/tokens';
import { ChainVerdict, verifyChain } from './hash-chain';
import { historyEntry } from './history';

/**
 * Everything an inspector needs about one application in one document: the application as
 * it stood (now, or at `asOf` / `revision`), every decision with its number, every payment
 * with its reference, the appraisal and evaluation, the budget movements on the programme,
 * the full event history with actors, and the integrity verdict of both hash chains.
 */
export class GetDossierQuery {
  constructor(
    readonly applicationId: string,
    readonly asOf?: Date,
    readonly revision?: number,
  ) {}
}

/** Who did it, in what role, when, and at which revision: the attribution of every entry. */
export interface Attribution {
  revision: number;
  actorId: string;
  role: string;
  actorName?: string;
  at: string;
}

export interface Dossier {
  generatedAt: string;
  /** The moment or revision the dossier shows; both absent: as it stands now. */
  asOf?: string;
  revision?: number;
  application: ApplicationView;
  programme: { id: string; name?: string; year?: number; fundingSource?: string };
  reviews: Array<Attribution & { score: number; recommendation: string; recommendedAmount?: number; notes?: string }>;
  revisionRequests: Array<Attribution & { reason: string }>;
  recusals: Array<Attribution & { reviewerId: string; reason: string }>;
  decisions: Array<
    Attribution & { outcome: 'approved' | 'rejected'; decisionNumber?: string; decisionDate?: string; approvedAmount?: number; reason?: string }
  >;
  payments: Array<Attribution & { paymentRef: string; amount: number; paidAt: string }>;
  evaluation: (Attribution & { rating: string; outcomes: Record<string, number>; notes?: string }) | null;
  /** BudgetCommitted / BudgetReleased for this application, from the programme stream. */
  budget: Array<Attribution & { type: string; amount: number; reason?: string }>;
  history: ReturnType<typeof historyEntry>[];
  /** Verified over the whole of both streams as stored now, whatever moment the dossier shows. */
  integrity: { application: ChainVerdict; programme: ChainVerdict; valid: boolean };
}

@QueryHandler(GetDossierQuery)
export class GetDossierHandler implements IQueryHandler<GetDossierQuery, Dossier> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ applicationId, asOf, revision }: GetDossierQuery): Promise<Dossier> {
    const all = await this.store.readStream(applicationStream(applicationId));
    if (all.length === 0) throw refuse.notFound(`Application ${applicationId} not found`);
    const shown = (e: RecordedEvent) =>
      (revision === undefined || e.revision <= revision) && (asOf === undefined || new Date(e.metadata.occurredAt) <= asOf);
    const events = all.filter(shown);
    const state = events.reduce((s, e) => applicationAggregate.evolve(s, e as unknown as ApplicationEvent), applicationAggregate.initialState());
    if (state.status === 'none') throw refuse.notFound(`Application ${applicationId} did not exist yet at that moment`);
    const application = state as Application;

    const programmeEvents = await this.store.readStream(programmeStream(application.programmeId));
    const opened = programmeEvents.find((e) => e.type === 'ProgrammeOpened')?.data as
      | { name: string; year: number; fundingSource: string }
      | undefined;
    const budget = programmeEvents
      .filter((e) => (e.type === 'BudgetCommitted' || e.type === 'BudgetReleased') && e.data.applicationId === applicationId && shown(e))
      .map((e) => ({ ...attribution(e), type: e.type, amount: e.data.amount as number, reason: e.data.reason as string | undefined }));

    const of = <T>(type: string, map: (data: Record<string, unknown>) => T) =>
      events.filter((e) => e.type === type).map((e) => ({ ...attribution(e), ...map(e.data) }));
    const decisions = events
      .filter((e) => e.type === 'ApplicationApproved' || e.type === 'ApplicationRejected')
      .map((e) => ({ ...attribution(e), outcome: e.type === 'ApplicationApproved' ? ('approved' as const) : ('rejected' as const), ...e.data }));
    const applicationVerdict = verifyChain(all);
    const programmeVerdict = verifyChain(programmeEvents);

    return {
      generatedAt: this.clock.now().toISOString(),
      ...(asOf ? { asOf: asOf.toISOString() } : {}),
      ...(revision !== undefined ? { revision } : {}),
      application: applicationView(application, events.at(-1)?.revision),
      programme: { id: application.programmeId, ...(opened ? { name: opened.name, year: opened.year, fundingSource: opened.fundingSource } : {}) },
      reviews: of('ApplicationReviewed', (d) => d as unknown as Dossier['reviews'][number]),
      revisionRequests: of('RevisionRequested', (d) => ({ reason: d.reason as string })),
      recusals: of('ReviewerRecused', (d) => ({ reviewerId: d.reviewerId as string, reason: d.reason as string })),
      decisions,
      payments: of('FundsDisbursed', (d) => ({ paymentRef: d.paymentRef as string, amount: d.amount as number, paidAt: d.paidAt as string })),
      evaluation: of('OutcomeEvaluated', (d) => d as unknown as NonNullable<Dossier['evaluation']>).at(-1) ?? null,
      budget,
      history: events.map(historyEntry),
      integrity: { application: applicationVerdict, programme: programmeVerdict, valid: applicationVerdict.valid && programmeVerdict.valid },
    };
  }
}

function attribution(event: RecordedEvent): Attribution {
  const { actorId, role, actorName, occurredAt } = event.metadata;
  return { revision: event.revision, actorId, role, ...(typeof actorName === 'string' ? { actorName } : {}), at: occurredAt };
}
