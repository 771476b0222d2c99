import type { ApplicationEvent } from '@kcflow/domain';
import type { RecordedEvent } from '@kcflow/event-store';

/**
 * The public contract other departments consume: integration events, versioned apart from
 * the domain events so the inside can change without breaking the outside. A change that
 * would break a consumer gets a new type (`….v2`) and, if need be, a new topic.
 *
 * The envelope follows CloudEvents 1.0 (structured mode, JSON). Data carries what a
 * consumer needs to follow money and progress: amounts, statuses, programme, category,
 * district. It never carries personal data or free text: no applicant name or tax code, no
 * project title or description, no notes or reasons, no officer ids, no priority flags.
 */
export interface IntegrationEvent<Data extends object = Record<string, unknown>> {
  specversion: '1.0';
  /** The domain event's id: the same event delivered twice has the same id. */
  id: string;
  /** e.g. `kcflow.application.approved.v1` */
  type: string;
  source: 'kcflow';
  /** The application id (also the Kafka message key). */
  subject: string;
  /** When the command was decided (ISO 8601). */
  time: string;
  datacontenttype: 'application/json';
  /** Extension: the event's revision in its application's stream; rises with every event (gaps are skipped internal events). */
  revision: number;
  data: Data;
}

type EventOf<T extends ApplicationEvent['type']> = Extract<ApplicationEvent, { type: T }>['data'];
type Mapping<T extends ApplicationEvent['type']> = { type: string; data: (data: EventOf<T>, applicationId: string) => Record<string, unknown> };

/**
 * Every application event type, mapped to its integration event or to `null` (not
 * published). A domain event type added later fails compilation here until someone decides.
 */
export const APPLICATION_CONTRACT: { [T in ApplicationEvent['type']]: Mapping<T> | null } = {
  ApplicationSubmitted: {
    type: 'kcflow.application.submitted.v1',
    data: (d, applicationId) => ({
      applicationId,
      status: 'submitted',
      programmeId: d.programmeId,
      category: d.category,
      applicantKind: d.applicant.kind,
      district: d.applicant.district,
      totalCost: d.project.totalCost,
      requestedAmount: d.project.requestedAmount,
    }),
  },
  RevisionRequested: {
    type: 'kcflow.application.revision_requested.v1',
    data: (_d, applicationId) => ({ applicationId, status: 'revision_requested' }),
  },
  ApplicationAmended: {
    type: 'kcflow.application.amended.v1',
    data: (d, applicationId) => ({ applicationId, status: 'submitted', totalCost: d.project.totalCost, requestedAmount: d.project.requestedAmount }),
  },
  ApplicationReviewed: {
    type: 'kcflow.application.reviewed.v1',
    data: (d, applicationId) => ({
      applicationId,
      status: 'reviewed',
      score: d.score,
      recommendation: d.recommendation,
      recommendedAmount: d.recommendedAmount ?? null,
    }),
  },
  ApplicationApproved: {
    type: 'kcflow.application.approved.v1',
    data: (d, applicationId) => ({
      applicationId,
      status: 'approved',
      decisionNumber: d.decisionNumber,
      decisionDate: d.decisionDate,
      approvedAmount: d.approvedAmount,
      advanceShare: d.advanceShare,
    }),
  },
  ApplicationRejected: {
    type: 'kcflow.application.rejected.v1',
    data: (d, applicationId) => ({ applicationId, status: 'rejected', decisionNumber: d.decisionNumber ?? null }),
  },
  ApplicationWithdrawn: {
    type: 'kcflow.application.withdrawn.v1',
    data: (_d, applicationId) => ({ applicationId, status: 'withdrawn' }),
  },
  FundsDisbursed: {
    type: 'kcflow.application.funds_disbursed.v1',
    data: (d, applicationId) => ({ applicationId, paymentRef: d.paymentRef, amount: d.amount, paidAt: d.paidAt }),
  },
  OutcomeEvaluated: {
    type: 'kcflow.application.outcome_evaluated.v1',
    data: (d, applicationId) => ({ applicationId, status: 'evaluated', rating: d.rating, outcomes: d.outcomes }),
  },
  ApplicationClosed: {
    type: 'kcflow.application.closed.v1',
    data: (_d, applicationId) => ({ applicationId, status: 'closed' }),
  },
  // Internal to the appraisal, and about an officer, not the application.
  ReviewerRecused: null,
};

/** The streams whose events are published: every other stream's are internal. */
export const APPLICATION_PREFIX = 'application-';

/**
 * The integration event for a stored event, or undefined if it is not published: programme
 * events (budget plans and the commitment ledger stay internal in v1) and the `null` rows
 * above. An application event of a type this code does not know — written by a newer
 * version — throws: skipping it would lose it for every consumer.
 */
export function toIntegrationEvent(event: RecordedEvent): IntegrationEvent | undefined {
  if (!event.streamId.startsWith(APPLICATION_PREFIX)) return undefined;
  const applicationId = event.streamId.slice(APPLICATION_PREFIX.length);
  if (!Object.hasOwn(APPLICATION_CONTRACT, event.type)) {
    throw new Error(`No integration event is defined for ${event.type} (event ${event.id}); add it to APPLICATION_CONTRACT`);
  }
  const mapping = APPLICATION_CONTRACT[event.type as ApplicationEvent['type']] as Mapping<ApplicationEvent['type']> | null;
  if (!mapping) return undefined;
  return {
    specversion: '1.0',
    id: event.id,
    type: mapping.type,
    source: 'kcflow',
    subject: applicationId,
    time: decidedAt(event),
    datacontenttype: 'application/json',
    revision: event.revision,
    data: mapping.data(event.data as never, applicationId),
  };
}

/** The form toISOString writes, as the command loop does for occurredAt. */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * When the command was decided, in toISOString's form. occurredAt already in that form is
 * passed on as written: converting it to a Date and back cost about 3 µs an event. Anything
 * else is normalised, and a value that is not a date gives way to the time it was recorded.
 */
function decidedAt(event: RecordedEvent): string {
  const { occurredAt } = event.metadata;
  if (ISO_UTC.test(occurredAt) && !Number.isNaN(Date.parse(occurredAt))) return occurredAt;
  const time = new Date(occurredAt);
  return (Number.isNaN(time.getTime()) ? event.recordedAt : time).toISOString();
}
