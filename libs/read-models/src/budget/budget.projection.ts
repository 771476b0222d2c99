import { ApplicationEvent, ProgrammeEvent } from '@kcflow/domain';
import { RecordedEvent } from '@kcflow/event-store';
import { SqlQueryable, quoteSchema } from '@kcflow/sql';
import { Projection, firstDelivery, idInStream, migrateStreamRevisions, occurredAt, streamRevisionsTable } from '../projection';

const NAME = 'budget';

/**
 * The budget of each programme: allocations per category from the programme stream, and per
 * application what is committed (BudgetCommitted − BudgetReleased, programme stream) and
 * disbursed (FundsDisbursed, application stream). Keeping the per-application figures with
 * the application's programme, category and district (application_directory) lets one table
 * answer both "per category" and "per district" by grouping, so the two always add up.
 */
export const budgetProjection: Projection = {
  name: NAME,
  tables: ['programmes', 'budget_allocations', 'application_directory', streamRevisionsTable(NAME)],

  async migrate(db, schema) {
    const s = quoteSchema(schema);
    await db.query(
      `CREATE TABLE IF NOT EXISTS ${s}.programmes (
         id text PRIMARY KEY,
         name text NOT NULL,
         year integer NOT NULL,
         funding_source text NOT NULL,
         targets jsonb NOT NULL DEFAULT '{}',
         advance_share double precision NOT NULL,
         opened_at timestamptz NOT NULL
       )`,
    );
    await db.query(
      `CREATE TABLE IF NOT EXISTS ${s}.budget_allocations (
         programme_id text NOT NULL,
         category text NOT NULL,
         allocated bigint NOT NULL,
         PRIMARY KEY (programme_id, category)
       )`,
    );
    // district is null only while a commitment has arrived before its application (it never
    // does in stream order, but the projection must not depend on it).
    await db.query(
      `CREATE TABLE IF NOT EXISTS ${s}.application_directory (
         application_id text PRIMARY KEY,
         programme_id text NOT NULL,
         category text NOT NULL,
         district text,
         approved boolean NOT NULL DEFAULT false,
         committed bigint NOT NULL DEFAULT 0,
         disbursed bigint NOT NULL DEFAULT 0
       )`,
    );
    await db.query(`CREATE INDEX IF NOT EXISTS application_directory_programme ON ${s}.application_directory (programme_id)`);
    await migrateStreamRevisions(db, schema, NAME);
  },

  async handle(tx, event, schema) {
    const programmeId = idInStream(event.streamId, 'programme');
    if (programmeId !== undefined && PROGRAMME_EVENTS.has(event.type) && (await firstDelivery(tx, schema, NAME, event))) {
      await onProgrammeEvent(tx, quoteSchema(schema), programmeId, event as Programme);
    }
    const applicationId = idInStream(event.streamId, 'application');
    if (applicationId !== undefined && APPLICATION_EVENTS.has(event.type) && (await firstDelivery(tx, schema, NAME, event))) {
      await onApplicationEvent(tx, quoteSchema(schema), applicationId, event as Application);
    }
  },
};

type Programme = RecordedEvent & ProgrammeEvent;
type Application = RecordedEvent & ApplicationEvent;

async function onProgrammeEvent(tx: SqlQueryable, s: string, programmeId: string, event: Programme): Promise<void> {
  switch (event.type) {
    case 'ProgrammeOpened': {
      const { name, year, fundingSource, advanceShare } = event.data;
      await tx.query(
        `INSERT INTO ${s}.programmes (id, name, year, funding_source, advance_share, opened_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
        [programmeId, name, year, fundingSource, advanceShare, occurredAt(event)],
      );
      return;
    }
    case 'TargetsSet':
      await tx.query(`UPDATE ${s}.programmes SET targets = $2::jsonb WHERE id = $1`, [programmeId, JSON.stringify(event.data.targets)]);
      return;
    case 'BudgetAllocated':
      // An allocation replaces the category's previous one.
      await tx.query(
        `INSERT INTO ${s}.budget_allocations (programme_id, category, allocated) VALUES ($1, $2, $3)
         ON CONFLICT (programme_id, category) DO UPDATE SET allocated = excluded.allocated`,
        [programmeId, event.data.category, event.data.amount],
      );
      return;
    case 'BudgetCommitted':
      await tx.query(
        `INSERT INTO ${s}.application_directory (application_id, programme_id, category, committed) VALUES ($1, $2, $3, $4)
         ON CONFLICT (application_id) DO UPDATE SET committed = application_directory.committed + excluded.committed`,
        [event.data.applicationId, programmeId, event.data.category, event.data.amount],
      );
      return;
    case 'BudgetReleased':
      await tx.query(`UPDATE ${s}.application_directory SET committed = committed - $2::bigint WHERE application_id = $1`, [
        event.data.applicationId,
        event.data.amount,
      ]);
      return;
  }
}

async function onApplicationEvent(tx: SqlQueryable, s: string, applicationId: string, event: Application): Promise<void> {
  switch (event.type) {
    case 'ApplicationSubmitted': {
      const { programmeId: programme, category, applicant } = event.data;
      await tx.query(
        `INSERT INTO ${s}.application_directory (application_id, programme_id, category, district) VALUES ($1, $2, $3, $4)
         ON CONFLICT (application_id) DO UPDATE SET district = excluded.district`,
        [applicationId, programme, category, applicant.district],
      );
      return;
    }
    case 'ApplicationApproved':
      await tx.query(`UPDATE ${s}.application_directory SET approved = true WHERE application_id = $1`, [applicationId]);
      return;
    case 'FundsDisbursed':
      await tx.query(`UPDATE ${s}.application_directory SET disbursed = disbursed + $2::bigint WHERE application_id = $1`, [
        applicationId,
        event.data.amount,
      ]);
      return;
  }
}

const PROGRAMME_EVENTS = new Set<string>(['ProgrammeOpened', 'TargetsSet', 'BudgetAllocated', 'BudgetCommitted', 'BudgetReleased']);
const APPLICATION_EVENTS = new Set<string>(['ApplicationSubmitted', 'ApplicationApproved', 'FundsDisbursed']);
