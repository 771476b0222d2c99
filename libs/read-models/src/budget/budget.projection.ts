import { ApplicationEvent, ProgrammeEvent } from '@kcflow/domain';
import { RecordedEvent } from '@kcflow/event-store';
import { SqlQueryable, quoteSchema } from '@kcflow/sql';
import { Projection, ProjectionFold, idInStream, insertRows, migrateStreamRevisions, occurredAt, streamRevisionsTable, unnestRows } from '../projection';

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

  async createTables(db, schema) {
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
    await migrateStreamRevisions(db, schema, NAME);
  },

  async createIndexes(db, schema) {
    await db.query(`CREATE INDEX IF NOT EXISTS application_directory_programme ON ${quoteSchema(schema)}.application_directory (programme_id)`);
  },

  applies,
  fold: foldBudget,
};

type Programme = RecordedEvent & ProgrammeEvent;
type Application = RecordedEvent & ApplicationEvent;

const PROGRAMME_EVENTS = new Set<string>(['ProgrammeOpened', 'TargetsSet', 'BudgetAllocated', 'BudgetCommitted', 'BudgetReleased']);
const APPLICATION_EVENTS = new Set<string>(['ApplicationSubmitted', 'ApplicationApproved', 'FundsDisbursed']);

function applies(event: RecordedEvent): boolean {
  if (idInStream(event.streamId, 'programme') !== undefined) return PROGRAMME_EVENTS.has(event.type);
  return idInStream(event.streamId, 'application') !== undefined && APPLICATION_EVENTS.has(event.type);
}

/*
 * A row that may or may not exist before the fold is written in two statements: an UPDATE
 * with what every event of the fold changes, which touches only a row that exists, then an
 * INSERT … ON CONFLICT DO NOTHING of the row as the fold builds it from the event that
 * creates it on, which lands only where none exists. Either way the row ends as the events
 * applied one by one would leave it, whichever stream's event comes first.
 */

interface ProgrammeRow {
  id: string;
  name: string;
  year: number;
  fundingSource: string;
  advanceShare: number;
  openedAt: string;
  targets: string;
}
/** New targets replace the old ones, as in the domain. */
type ProgrammeChange = { id: string; targets?: string; row?: ProgrammeRow };

interface Allocation {
  programmeId: string;
  category: string;
  amount: number;
}

interface DirectoryRow {
  applicationId: string;
  programmeId: string;
  category: string;
  district: string | undefined;
  approved: boolean;
  committed: number;
  disbursed: number;
}
type DirectoryChange = { update: Omit<DirectoryRow, 'programmeId' | 'category'>; row?: DirectoryRow };

interface Batch {
  programmes: Map<string, ProgrammeChange>;
  /** By programme and category: an allocation replaces the category's previous one. */
  allocations: Map<string, Allocation>;
  directory: Map<string, DirectoryChange>;
}

function foldBudget(): ProjectionFold {
  const batch: Batch = { programmes: new Map(), allocations: new Map(), directory: new Map() };
  return {
    get rows() {
      return batch.programmes.size + batch.allocations.size + batch.directory.size;
    },
    add(event) {
      const programmeId = idInStream(event.streamId, 'programme');
      if (programmeId !== undefined) onProgrammeEvent(batch, programmeId, event as Programme);
      else onApplicationEvent(batch, idInStream(event.streamId, 'application')!, event as Application);
    },
    async write(tx, schema) {
      const s = quoteSchema(schema);
      await writeProgrammes(tx, s, [...batch.programmes.values()]);
      await writeAllocations(tx, s, [...batch.allocations.values()]);
      await writeDirectory(tx, s, [...batch.directory.values()]);
    },
  };
}

function directoryChange(batch: Batch, applicationId: string): DirectoryChange {
  let change = batch.directory.get(applicationId);
  if (!change) batch.directory.set(applicationId, (change = { update: { applicationId, district: undefined, approved: false, committed: 0, disbursed: 0 } }));
  return change;
}

function onProgrammeEvent(batch: Batch, programmeId: string, event: Programme): void {
  switch (event.type) {
    case 'ProgrammeOpened': {
      const change = batch.programmes.get(programmeId) ?? { id: programmeId };
      const { name, year, fundingSource, advanceShare } = event.data;
      change.row ??= { id: programmeId, name, year, fundingSource, advanceShare, openedAt: occurredAt(event), targets: '{}' };
      batch.programmes.set(programmeId, change);
      return;
    }
    case 'TargetsSet': {
      const change = batch.programmes.get(programmeId) ?? { id: programmeId };
      change.targets = JSON.stringify(event.data.targets);
      if (change.row) change.row.targets = change.targets;
      batch.programmes.set(programmeId, change);
      return;
    }
    case 'BudgetAllocated': {
      const { category, amount } = event.data;
      batch.allocations.set(`${programmeId}\u0000${category}`, { programmeId, category, amount });
      return;
    }
    case 'BudgetCommitted': {
      const { applicationId, category, amount } = event.data;
      const change = directoryChange(batch, applicationId);
      change.update.committed += amount;
      if (change.row) change.row.committed += amount;
      else change.row = { applicationId, programmeId, category, district: undefined, approved: false, committed: amount, disbursed: 0 };
      return;
    }
    case 'BudgetReleased': {
      const change = directoryChange(batch, event.data.applicationId);
      change.update.committed -= event.data.amount;
      if (change.row) change.row.committed -= event.data.amount;
      return;
    }
  }
}

function onApplicationEvent(batch: Batch, applicationId: string, event: Application): void {
  const change = directoryChange(batch, applicationId);
  switch (event.type) {
    case 'ApplicationSubmitted': {
      const { programmeId, category, applicant } = event.data;
      change.update.district = applicant.district;
      if (change.row) change.row.district = applicant.district;
      else change.row = { applicationId, programmeId, category, district: applicant.district, approved: false, committed: 0, disbursed: 0 };
      return;
    }
    case 'ApplicationApproved':
      change.update.approved = true;
      if (change.row) change.row.approved = true;
      return;
    case 'FundsDisbursed':
      change.update.disbursed += event.data.amount;
      if (change.row) change.row.disbursed += event.data.amount;
      return;
  }
}

async function writeProgrammes(tx: SqlQueryable, s: string, changes: readonly ProgrammeChange[]): Promise<void> {
  const updated = changes.filter((c) => c.targets !== undefined);
  if (updated.length > 0) {
    const updates = unnestRows('u', updated, { id: ['text', (c) => c.id], targets: ['jsonb', (c) => c.targets] });
    await tx.query(`UPDATE ${s}.programmes AS p SET targets = u.targets FROM ${updates.sql} WHERE p.id = u.id AND p.id = ANY($1::text[])`, updates.params);
  }
  await insertRows(
    tx,
    `${s}.programmes`,
    changes.flatMap((c) => (c.row ? [c.row] : [])),
    {
      id: ['text', (r) => r.id],
      name: ['text', (r) => r.name],
      year: ['integer', (r) => r.year],
      funding_source: ['text', (r) => r.fundingSource],
      targets: ['jsonb', (r) => r.targets],
      advance_share: ['double precision', (r) => r.advanceShare],
      opened_at: ['timestamptz', (r) => r.openedAt],
    },
    '(id) DO NOTHING',
  );
}

async function writeAllocations(tx: SqlQueryable, s: string, allocations: readonly Allocation[]): Promise<void> {
  await insertRows(
    tx,
    `${s}.budget_allocations`,
    allocations,
    {
      programme_id: ['text', (a) => a.programmeId],
      category: ['text', (a) => a.category],
      allocated: ['bigint', (a) => a.amount],
    },
    '(programme_id, category) DO UPDATE SET allocated = excluded.allocated',
  );
}

async function writeDirectory(tx: SqlQueryable, s: string, changes: readonly DirectoryChange[]): Promise<void> {
  if (changes.length === 0) return;
  const updates = unnestRows('u', changes, {
    application_id: ['text', (c) => c.update.applicationId],
    district: ['text', (c) => c.update.district],
    approved: ['boolean', (c) => c.update.approved],
    committed: ['bigint', (c) => c.update.committed],
    disbursed: ['bigint', (c) => c.update.disbursed],
  });
  await tx.query(
    `UPDATE ${s}.application_directory AS d SET district = coalesce(u.district, d.district), approved = d.approved OR u.approved,
       committed = d.committed + u.committed, disbursed = d.disbursed + u.disbursed
     FROM ${updates.sql} WHERE d.application_id = u.application_id AND d.application_id = ANY($1::text[])`,
    updates.params,
  );
  await insertRows(
    tx,
    `${s}.application_directory`,
    changes.flatMap((c) => (c.row ? [c.row] : [])),
    {
      application_id: ['text', (r) => r.applicationId],
      programme_id: ['text', (r) => r.programmeId],
      category: ['text', (r) => r.category],
      district: ['text', (r) => r.district],
      approved: ['boolean', (r) => r.approved],
      committed: ['bigint', (r) => r.committed],
      disbursed: ['bigint', (r) => r.disbursed],
    },
    '(application_id) DO NOTHING',
  );
}
