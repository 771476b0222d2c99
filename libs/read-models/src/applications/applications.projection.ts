import { ApplicationEvent } from '@kcflow/domain';
import { RecordedEvent } from '@kcflow/event-store';
import { SqlQueryable, quoteSchema } from '@kcflow/sql';
import { Projection, ProjectionFold, idInStream, insertRows, migrateStreamRevisions, occurredAt, streamRevisionsTable, timeOf, unnestRows } from '../projection';
import { foldForSearch } from './search-text';

const NAME = 'applications';

/** One row per application, for lists and filters (GET /applications). */
export const applicationsProjection: Projection = {
  name: NAME,
  tables: ['applications', streamRevisionsTable(NAME)],

  async createTables(db, schema) {
    const s = quoteSchema(schema);
    await db.query(
      `CREATE TABLE IF NOT EXISTS ${s}.applications (
         id text PRIMARY KEY,
         programme_id text NOT NULL,
         category text NOT NULL,
         status text NOT NULL,
         payment_status text NOT NULL,
         applicant_name text NOT NULL,
         tax_code text NOT NULL,
         applicant_kind text NOT NULL,
         district text NOT NULL,
         commune text NOT NULL,
         craft_village text,
         owner_id text NOT NULL,
         title text NOT NULL,
         total_cost bigint NOT NULL,
         requested_amount bigint NOT NULL,
         approved_amount bigint,
         disbursed_amount bigint NOT NULL DEFAULT 0,
         score integer,
         search_text text NOT NULL,
         submitted_at timestamptz NOT NULL,
         updated_at timestamptz NOT NULL,
         revision integer NOT NULL
       )`,
    );
    await migrateStreamRevisions(db, schema, NAME);
  },

  async createIndexes(db, schema) {
    const s = quoteSchema(schema);
    // Every list is ordered by the keyset (submitted_at, id); most are filtered by programme.
    await db.query(`CREATE INDEX IF NOT EXISTS applications_keyset ON ${s}.applications (submitted_at, id)`);
    await db.query(`CREATE INDEX IF NOT EXISTS applications_programme_keyset ON ${s}.applications (programme_id, submitted_at, id)`);
  },

  applies: (event) => idInStream(event.streamId, 'application') !== undefined,
  fold: foldApplications,
};

type Submitted = RecordedEvent & Extract<ApplicationEvent, { type: 'ApplicationSubmitted' }>;

/** What a submission puts in the row; copied out, so that a fold does not hold the event. */
interface SubmittedRow {
  programmeId: string;
  category: string;
  applicant: { name: string; taxCode: string; kind: string; district: string; commune: string; craftVillage?: string };
  ownerId: string;
  title: string;
  totalCost: number;
  requestedAmount: number;
  submittedAt: string;
}

function submittedRow(event: Submitted): SubmittedRow {
  const { programmeId, category, applicant, ownerId, project } = event.data;
  const { name, taxCode, kind, district, commune, craftVillage } = applicant;
  return {
    programmeId,
    category,
    applicant: { name, taxCode, kind, district, commune, craftVillage },
    ownerId,
    title: project.title,
    totalCost: project.totalCost,
    requestedAmount: project.requestedAmount,
    submittedAt: occurredAt(event),
  };
}

/**
 * What events change in an application's row: each field the last event that set it
 * (undefined: unchanged), and the disbursements added up.
 */
interface Change {
  id: string;
  revision: number;
  /** The last event's occurredAt and recordedAt: its time is taken once, when the row is written. */
  occurred: string;
  recordedAt: Date;
  status?: string;
  title?: string;
  totalCost?: number;
  requestedAmount?: number;
  score?: number;
  approvedAmount?: number;
  disbursed: number;
  /** Set by a disbursement: the amount approved in this fold before it, if any, which it is measured against. */
  paid?: { approvedAmount: number | undefined };
}

/** An application in a fold: its submission if the fold has it, and what the events after it change. */
interface Entry {
  submitted?: SubmittedRow;
  change: Change;
}

/**
 * An application submitted in this fold is INSERTed once, as all its events in the fold leave
 * it; one submitted before is UPDATEd with what its events change.
 */
function foldApplications(): ProjectionFold {
  const entries = new Map<string, Entry>();
  // In order, all of them: a second submission of an application fails the INSERT, as it should.
  const submissions: Entry[] = [];
  return {
    get rows() {
      return entries.size;
    },
    add(recorded) {
      const event = recorded as RecordedEvent & ApplicationEvent;
      const id = idInStream(event.streamId, 'application')!;
      const entry = entries.get(id);
      if (event.type === 'ApplicationSubmitted') {
        // Events before a submission found no row to change (or the INSERT fails, as it should).
        const submitted = { submitted: submittedRow(event), change: evolve(newChange(id, event), event) };
        entries.set(id, submitted);
        submissions.push(submitted);
      } else if (entry) evolve(entry.change, event);
      else entries.set(id, { change: evolve(newChange(id, event), event) });
    },
    async write(tx, schema) {
      const table = `${quoteSchema(schema)}.applications`;
      await insertSubmitted(tx, table, submissions);
      await applyChanges(tx, table, [...entries.values()].flatMap((entry) => (entry.submitted ? [] : [entry.change])));
    },
  };
}

function newChange(id: string, event: RecordedEvent): Change {
  return { id, revision: event.revision, occurred: event.metadata.occurredAt, recordedAt: event.recordedAt, disbursed: 0 };
}

/** The change after one more event, changed in place: every event moves the row's revision and time. */
function evolve(change: Change, event: RecordedEvent & ApplicationEvent): Change {
  change.revision = event.revision;
  change.occurred = event.metadata.occurredAt;
  change.recordedAt = event.recordedAt;
  switch (event.type) {
    case 'ApplicationSubmitted':
    case 'ReviewerRecused':
      break;
    case 'RevisionRequested':
      change.status = 'revision_requested';
      break;
    case 'ApplicationAmended': {
      const { title, totalCost, requestedAmount } = event.data.project;
      Object.assign(change, { status: 'submitted', title, totalCost, requestedAmount });
      break;
    }
    case 'ApplicationReviewed':
      Object.assign(change, { status: 'reviewed', score: event.data.score });
      break;
    case 'ApplicationApproved':
      Object.assign(change, { status: 'approved', approvedAmount: event.data.approvedAmount });
      break;
    case 'ApplicationRejected':
      change.status = 'rejected';
      break;
    case 'ApplicationWithdrawn':
      change.status = 'withdrawn';
      break;
    case 'FundsDisbursed':
      change.disbursed += event.data.amount;
      change.paid = { approvedAmount: change.approvedAmount };
      break;
    case 'OutcomeEvaluated':
      change.status = 'evaluated';
      break;
    case 'ApplicationClosed':
      change.status = 'closed';
      break;
    default: {
      // A type added after this projection was written: the row still follows the revision.
      const unknown: never = event;
      void unknown;
    }
  }
  return change;
}

/**
 * payment_status as the domain's paymentStatusOf gives it after the fold's last disbursement,
 * for a row the fold submitted: nothing was approved or disbursed before the fold. The same
 * rule as applyChanges' CASE, whose old row is then the submitted one.
 */
function paymentStatus(change: Change): string {
  if (!change.paid) return 'none';
  const against = change.paid.approvedAmount;
  // Nothing approved yet: partial, as NULL is not >= in SQL.
  return against !== undefined && change.disbursed >= against ? 'full' : 'partial';
}

async function insertSubmitted(tx: SqlQueryable, table: string, entries: readonly Entry[]): Promise<void> {
  const rows = entries.map(({ submitted, change }) => ({ row: submitted!, change }));
  await insertRows(tx, table, rows, {
    id: ['text', ({ change }) => change.id],
    programme_id: ['text', ({ row }) => row.programmeId],
    category: ['text', ({ row }) => row.category],
    status: ['text', ({ change }) => change.status ?? 'submitted'],
    payment_status: ['text', ({ change }) => paymentStatus(change)],
    applicant_name: ['text', ({ row }) => row.applicant.name],
    tax_code: ['text', ({ row }) => row.applicant.taxCode],
    applicant_kind: ['text', ({ row }) => row.applicant.kind],
    district: ['text', ({ row }) => row.applicant.district],
    commune: ['text', ({ row }) => row.applicant.commune],
    craft_village: ['text', ({ row }) => row.applicant.craftVillage],
    owner_id: ['text', ({ row }) => row.ownerId],
    title: ['text', ({ row, change }) => change.title ?? row.title],
    total_cost: ['bigint', ({ row, change }) => change.totalCost ?? row.totalCost],
    requested_amount: ['bigint', ({ row, change }) => change.requestedAmount ?? row.requestedAmount],
    approved_amount: ['bigint', ({ change }) => change.approvedAmount],
    disbursed_amount: ['bigint', ({ change }) => change.disbursed],
    score: ['integer', ({ change }) => change.score],
    search_text: ['text', ({ row }) => foldForSearch(`${row.applicant.name}\n${row.applicant.taxCode}`)],
    submitted_at: ['timestamptz', ({ row }) => row.submittedAt],
    updated_at: ['timestamptz', ({ change }) => timeOf(change.occurred, change.recordedAt)],
    revision: ['integer', ({ change }) => change.revision],
  });
}

async function applyChanges(tx: SqlQueryable, table: string, changes: readonly Change[]): Promise<void> {
  if (changes.length === 0) return;
  const rows = unnestRows('c', changes, {
    id: ['text', (c) => c.id],
    revision: ['integer', (c) => c.revision],
    updated_at: ['timestamptz', (c) => timeOf(c.occurred, c.recordedAt)],
    status: ['text', (c) => c.status],
    title: ['text', (c) => c.title],
    total_cost: ['bigint', (c) => c.totalCost],
    requested_amount: ['bigint', (c) => c.requestedAmount],
    score: ['integer', (c) => c.score],
    approved_amount: ['bigint', (c) => c.approvedAmount],
    disbursed: ['bigint', (c) => c.disbursed],
    paid: ['boolean', (c) => c.paid !== undefined],
    paid_against: ['bigint', (c) => c.paid?.approvedAmount],
  });
  // payment_status is the domain's paymentStatusOf as of the fold's last disbursement: the
  // whole sum disbursed by then, against the amount approved by then. SET reads the old row.
  await tx.query(
    `UPDATE ${table} AS a SET
       revision = c.revision, updated_at = c.updated_at, status = coalesce(c.status, a.status),
       title = coalesce(c.title, a.title), total_cost = coalesce(c.total_cost, a.total_cost),
       requested_amount = coalesce(c.requested_amount, a.requested_amount), score = coalesce(c.score, a.score),
       approved_amount = coalesce(c.approved_amount, a.approved_amount),
       disbursed_amount = a.disbursed_amount + c.disbursed,
       payment_status = CASE WHEN NOT c.paid THEN a.payment_status
                             WHEN a.disbursed_amount + c.disbursed >= coalesce(c.paid_against, a.approved_amount) THEN 'full'
                             ELSE 'partial' END -- also when nothing was approved: NULL is not >=
     FROM ${rows.sql}
     WHERE a.id = c.id AND a.id = ANY($1::text[])`,
    rows.params,
  );
}
