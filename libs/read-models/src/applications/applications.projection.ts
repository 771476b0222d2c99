import { ApplicationEvent } from '@kcflow/domain';
import { RecordedEvent } from '@kcflow/event-store';
import { SqlQueryable, quoteSchema } from '@kcflow/sql';
import { Projection, firstDeliveries, idInStream, migrateStreamRevisions, occurredAt, streamRevisionsTable, unnestRows } from '../projection';
import { foldForSearch } from './search-text';

const NAME = 'applications';

/** One row per application, for lists and filters (GET /applications). */
export const applicationsProjection: Projection = {
  name: NAME,
  tables: ['applications', streamRevisionsTable(NAME)],

  async migrate(db, schema) {
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
    // Every list is ordered by the keyset (submitted_at, id); most are filtered by programme.
    await db.query(`CREATE INDEX IF NOT EXISTS applications_keyset ON ${s}.applications (submitted_at, id)`);
    await db.query(`CREATE INDEX IF NOT EXISTS applications_programme_keyset ON ${s}.applications (programme_id, submitted_at, id)`);
    await migrateStreamRevisions(db, schema, NAME);
  },

  async handleBatch(tx, events, schema) {
    const fresh = await firstDeliveries(tx, schema, NAME, events.filter((event) => idInStream(event.streamId, 'application') !== undefined));
    const submissions: Submitted[] = [];
    const changes = new Map<string, Change>();
    for (const recorded of fresh) {
      const event = recorded as RecordedEvent & ApplicationEvent;
      const id = idInStream(event.streamId, 'application')!;
      if (event.type === 'ApplicationSubmitted') {
        submissions.push(event);
        // Events before a submission found no row to change (or the INSERT fails, as it should).
        changes.delete(id);
        continue;
      }
      const change = changes.get(id) ?? { id, revision: event.revision, updatedAt: occurredAt(event), disbursed: 0 };
      changes.set(id, evolve(change, event));
    }
    // The submitted rows first, so that the changes of later events in the batch apply to them.
    const table = `${quoteSchema(schema)}.applications`;
    await insertSubmitted(tx, table, submissions);
    await applyChanges(tx, table, [...changes.values()]);
  },
};

type Submitted = RecordedEvent & Extract<ApplicationEvent, { type: 'ApplicationSubmitted' }>;

/**
 * What a batch's events change in an application's row: each field the last event that set it
 * (undefined: unchanged), and the disbursements added up.
 */
interface Change {
  id: string;
  revision: number;
  updatedAt: string;
  status?: string;
  title?: string;
  totalCost?: number;
  requestedAmount?: number;
  score?: number;
  approvedAmount?: number;
  disbursed: number;
  /** Set by a disbursement: the amount approved in this batch before it, if any, which it is measured against. */
  paid?: { approvedAmount: number | undefined };
}

/** The change after one more event: every event moves the row's revision and time. */
function evolve(change: Change, event: RecordedEvent & ApplicationEvent): Change {
  const next = { ...change, revision: event.revision, updatedAt: occurredAt(event) };
  switch (event.type) {
    case 'ApplicationSubmitted':
    case 'ReviewerRecused':
      return next;
    case 'RevisionRequested':
      return { ...next, status: 'revision_requested' };
    case 'ApplicationAmended': {
      const { title, totalCost, requestedAmount } = event.data.project;
      return { ...next, status: 'submitted', title, totalCost, requestedAmount };
    }
    case 'ApplicationReviewed':
      return { ...next, status: 'reviewed', score: event.data.score };
    case 'ApplicationApproved':
      return { ...next, status: 'approved', approvedAmount: event.data.approvedAmount };
    case 'ApplicationRejected':
      return { ...next, status: 'rejected' };
    case 'ApplicationWithdrawn':
      return { ...next, status: 'withdrawn' };
    case 'FundsDisbursed':
      return { ...next, disbursed: next.disbursed + event.data.amount, paid: { approvedAmount: next.approvedAmount } };
    case 'OutcomeEvaluated':
      return { ...next, status: 'evaluated' };
    case 'ApplicationClosed':
      return { ...next, status: 'closed' };
    default: {
      // A type added after this projection was written: the row still follows the revision.
      const unknown: never = event;
      void unknown;
      return next;
    }
  }
}

async function insertSubmitted(tx: SqlQueryable, table: string, submissions: readonly Submitted[]): Promise<void> {
  if (submissions.length === 0) return;
  const rows = unnestRows('s', submissions, {
    id: ['text', (e) => idInStream(e.streamId, 'application')],
    programme_id: ['text', (e) => e.data.programmeId],
    category: ['text', (e) => e.data.category],
    applicant_name: ['text', (e) => e.data.applicant.name],
    tax_code: ['text', (e) => e.data.applicant.taxCode],
    applicant_kind: ['text', (e) => e.data.applicant.kind],
    district: ['text', (e) => e.data.applicant.district],
    commune: ['text', (e) => e.data.applicant.commune],
    craft_village: ['text', (e) => e.data.applicant.craftVillage],
    owner_id: ['text', (e) => e.data.ownerId],
    title: ['text', (e) => e.data.project.title],
    total_cost: ['bigint', (e) => e.data.project.totalCost],
    requested_amount: ['bigint', (e) => e.data.project.requestedAmount],
    search_text: ['text', (e) => foldForSearch(`${e.data.applicant.name}\n${e.data.applicant.taxCode}`)],
    submitted_at: ['timestamptz', (e) => occurredAt(e)],
    revision: ['integer', (e) => e.revision],
  });
  await tx.query(
    `INSERT INTO ${table} (id, programme_id, category, status, payment_status, applicant_name, tax_code, applicant_kind,
       district, commune, craft_village, owner_id, title, total_cost, requested_amount, search_text,
       submitted_at, updated_at, revision)
     SELECT id, programme_id, category, 'submitted', 'none', applicant_name, tax_code, applicant_kind,
       district, commune, craft_village, owner_id, title, total_cost, requested_amount, search_text,
       submitted_at, submitted_at, revision
     FROM ${rows.sql}`,
    rows.params,
  );
}

async function applyChanges(tx: SqlQueryable, table: string, changes: readonly Change[]): Promise<void> {
  if (changes.length === 0) return;
  const rows = unnestRows('c', changes, {
    id: ['text', (c) => c.id],
    revision: ['integer', (c) => c.revision],
    updated_at: ['timestamptz', (c) => c.updatedAt],
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
  // payment_status is the domain's paymentStatusOf as of the batch's last disbursement: the
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
