import { ApplicationEvent } from '@kcflow/domain';
import { RecordedEvent } from '@kcflow/event-store';
import { SqlQueryable, quoteSchema } from '@kcflow/sql';
import { Projection, firstDelivery, idInStream, migrateStreamRevisions, occurredAt, streamRevisionsTable } from '../projection';
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

  async handle(tx, recorded, schema) {
    const applicationId = idInStream(recorded.streamId, 'application');
    if (applicationId === undefined) return;
    if (!(await firstDelivery(tx, schema, NAME, recorded))) return;
    const event = recorded as RecordedEvent & ApplicationEvent;
    const table = `${quoteSchema(schema)}.applications`;

    if (event.type === 'ApplicationSubmitted') {
      const { programmeId, category, ownerId, applicant, project } = event.data;
      await tx.query(
        `INSERT INTO ${table} (id, programme_id, category, status, payment_status, applicant_name, tax_code, applicant_kind,
           district, commune, craft_village, owner_id, title, total_cost, requested_amount, search_text,
           submitted_at, updated_at, revision)
         VALUES ($1, $2, $3, 'submitted', 'none', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16)`,
        [
          applicationId, programmeId, category, applicant.name, applicant.taxCode, applicant.kind,
          applicant.district, applicant.commune, applicant.craftVillage ?? null, ownerId, project.title,
          project.totalCost, project.requestedAmount, foldForSearch(`${applicant.name}\n${applicant.taxCode}`),
          occurredAt(event), event.revision,
        ],
      );
      return;
    }

    // Every later event moves the row's revision and time, plus what the event changes.
    const [changes, values] = changesFor(event);
    await tx.query(
      `UPDATE ${table} SET revision = $2, updated_at = $3${changes ? `, ${changes}` : ''} WHERE id = $1`,
      [applicationId, event.revision, occurredAt(event), ...values],
    );
  },
};

/** The SET clause (its parameters numbered from $4) and values for each kind of event. */
function changesFor(event: ApplicationEvent): [string, unknown[]] {
  switch (event.type) {
    case 'ApplicationSubmitted':
    case 'ReviewerRecused':
      return ['', []];
    case 'RevisionRequested':
      return ["status = 'revision_requested'", []];
    case 'ApplicationAmended': {
      const { title, totalCost, requestedAmount } = event.data.project;
      return ["status = 'submitted', title = $4, total_cost = $5, requested_amount = $6", [title, totalCost, requestedAmount]];
    }
    case 'ApplicationReviewed':
      return ["status = 'reviewed', score = $4", [event.data.score]];
    case 'ApplicationApproved':
      return ["status = 'approved', approved_amount = $4", [event.data.approvedAmount]];
    case 'ApplicationRejected':
      return ["status = 'rejected'", []];
    case 'ApplicationWithdrawn':
      return ["status = 'withdrawn'", []];
    case 'FundsDisbursed':
      // The domain's paymentStatusOf; SET expressions read the row as it was before.
      return [
        `disbursed_amount = disbursed_amount + $4::bigint,
         payment_status = CASE WHEN approved_amount IS NOT NULL AND disbursed_amount + $4::bigint >= approved_amount
                               THEN 'full' ELSE 'partial' END`,
        [event.data.amount],
      ];
    case 'OutcomeEvaluated':
      return ["status = 'evaluated'", []];
    case 'ApplicationClosed':
      return ["status = 'closed'", []];
    default: {
      // A type added after this projection was written: the row still follows the revision.
      const unknown: never = event;
      void unknown;
      return ['', []];
    }
  }
}
