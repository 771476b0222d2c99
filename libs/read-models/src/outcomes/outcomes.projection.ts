import { ApplicationEvent, ProgrammeEvent } from '@kcflow/domain';
import { RecordedEvent } from '@kcflow/event-store';
import { SqlQueryable, quoteSchema } from '@kcflow/sql';
import { Projection, ProjectionFold, idInStream, insertRows, migrateStreamRevisions, streamRevisionsTable, unnestRows } from '../projection';

const NAME = 'outcomes';

/**
 * What each programme planned (year, targets) and, per application, what it expects and what
 * its evaluation achieved. Sums are taken when the report is asked for, not kept running, so
 * an amendment or a second evaluation simply replaces the application's figures.
 * Its own copy of the programme's year and targets (not the budget projection's table), so
 * that either projection can be rebuilt without the other.
 */
export const outcomesProjection: Projection = {
  name: NAME,
  tables: ['outcome_programmes', 'outcome_applications', streamRevisionsTable(NAME)],

  async createTables(db, schema) {
    const s = quoteSchema(schema);
    await db.query(
      `CREATE TABLE IF NOT EXISTS ${s}.outcome_programmes (
         programme_id text PRIMARY KEY,
         year integer NOT NULL,
         targets jsonb NOT NULL DEFAULT '{}'
       )`,
    );
    // expected: the project's expectedOutcomes as last submitted or amended; achieved: the
    // evaluation's outcomes, null until evaluated. approved never goes back: after approval
    // the lifecycle allows neither rejection nor withdrawal, and closure keeps the results.
    await db.query(
      `CREATE TABLE IF NOT EXISTS ${s}.outcome_applications (
         application_id text PRIMARY KEY,
         programme_id text NOT NULL,
         tax_code text NOT NULL,
         approved boolean NOT NULL DEFAULT false,
         expected jsonb NOT NULL DEFAULT '{}',
         achieved jsonb
       )`,
    );
    await migrateStreamRevisions(db, schema, NAME);
  },

  async createIndexes(db, schema) {
    await db.query(`CREATE INDEX IF NOT EXISTS outcome_applications_programme ON ${quoteSchema(schema)}.outcome_applications (programme_id)`);
  },

  applies,
  fold: foldOutcomes,
};

const PROGRAMME_EVENTS = new Set<string>(['ProgrammeOpened', 'TargetsSet']);
const APPLICATION_EVENTS = new Set<string>(['ApplicationSubmitted', 'ApplicationAmended', 'ApplicationApproved', 'OutcomeEvaluated']);

function applies(event: RecordedEvent): boolean {
  if (idInStream(event.streamId, 'programme') !== undefined) return PROGRAMME_EVENTS.has(event.type);
  return idInStream(event.streamId, 'application') !== undefined && APPLICATION_EVENTS.has(event.type);
}

function foldOutcomes(): ProjectionFold {
  const programmes = new Map<string, ProgrammeChange>();
  const applications = new Map<string, ApplicationChange>();
  return {
    get rows() {
      return programmes.size + applications.size;
    },
    add(recorded) {
      const programmeId = idInStream(recorded.streamId, 'programme');
      if (programmeId !== undefined) {
        const event = recorded as RecordedEvent & ProgrammeEvent;
        const change = programmes.get(programmeId) ?? { programmeId };
        programmes.set(programmeId, change);
        if (event.type === 'ProgrammeOpened') change.row ??= { programmeId, year: event.data.year, targets: '{}' };
        if (event.type === 'TargetsSet') {
          // New targets replace the old ones, as in the domain.
          change.targets = JSON.stringify(event.data.targets);
          if (change.row) change.row.targets = change.targets;
        }
        return;
      }
      const applicationId = idInStream(recorded.streamId, 'application')!;
      const event = recorded as RecordedEvent & ApplicationEvent;
      const change = applications.get(applicationId) ?? { update: { applicationId, approved: false } };
      applications.set(applicationId, change);
      const { update, row } = change;
      switch (event.type) {
        case 'ApplicationSubmitted': {
          const { programmeId, applicant, project } = event.data;
          change.row ??= { applicationId, programmeId, taxCode: applicant.taxCode, approved: false, expected: JSON.stringify(project.expectedOutcomes ?? {}) };
          break;
        }
        case 'ApplicationAmended':
          update.expected = JSON.stringify(event.data.project.expectedOutcomes ?? {});
          if (row) row.expected = update.expected;
          break;
        case 'ApplicationApproved':
          update.approved = true;
          if (row) row.approved = true;
          break;
        case 'OutcomeEvaluated':
          update.achieved = JSON.stringify(event.data.outcomes ?? {});
          if (row) row.achieved = update.achieved;
          break;
      }
    },
    // As in the budget projection: UPDATE the rows that exist, then INSERT those the fold creates.
    async write(tx, schema) {
      const s = quoteSchema(schema);
      await writeProgrammes(tx, s, [...programmes.values()]);
      await writeApplications(tx, s, [...applications.values()]);
    },
  };
}

type ProgrammeRow = { programmeId: string; year: number; targets: string };
type ProgrammeChange = { programmeId: string; targets?: string; row?: ProgrammeRow };
type ApplicationRow = { applicationId: string; programmeId: string; taxCode: string; approved: boolean; expected: string; achieved?: string };
type ApplicationChange = { update: { applicationId: string; approved: boolean; expected?: string; achieved?: string }; row?: ApplicationRow };

async function writeProgrammes(tx: SqlQueryable, s: string, changes: readonly ProgrammeChange[]): Promise<void> {
  const updated = changes.filter((c) => c.targets !== undefined);
  if (updated.length > 0) {
    const updates = unnestRows('u', updated, { programme_id: ['text', (c) => c.programmeId], targets: ['jsonb', (c) => c.targets] });
    await tx.query(`UPDATE ${s}.outcome_programmes AS p SET targets = u.targets FROM ${updates.sql} WHERE p.programme_id = u.programme_id AND p.programme_id = ANY($1::text[])`, updates.params);
  }
  await insertRows(
    tx,
    `${s}.outcome_programmes`,
    changes.flatMap((c) => (c.row ? [c.row] : [])),
    { programme_id: ['text', (r) => r.programmeId], year: ['integer', (r) => r.year], targets: ['jsonb', (r) => r.targets] },
    '(programme_id) DO NOTHING',
  );
}

async function writeApplications(tx: SqlQueryable, s: string, changes: readonly ApplicationChange[]): Promise<void> {
  const updated = changes.map((c) => c.update).filter((u) => u.approved || u.expected !== undefined || u.achieved !== undefined);
  if (updated.length > 0) {
    const updates = unnestRows('u', updated, {
      application_id: ['text', (u) => u.applicationId],
      approved: ['boolean', (u) => u.approved],
      expected: ['jsonb', (u) => u.expected],
      achieved: ['jsonb', (u) => u.achieved],
    });
    await tx.query(
      `UPDATE ${s}.outcome_applications AS o SET approved = o.approved OR u.approved,
         expected = coalesce(u.expected, o.expected), achieved = coalesce(u.achieved, o.achieved)
       FROM ${updates.sql} WHERE o.application_id = u.application_id AND o.application_id = ANY($1::text[])`,
      updates.params,
    );
  }
  await insertRows(
    tx,
    `${s}.outcome_applications`,
    changes.flatMap((c) => (c.row ? [c.row] : [])),
    {
      application_id: ['text', (r) => r.applicationId],
      programme_id: ['text', (r) => r.programmeId],
      tax_code: ['text', (r) => r.taxCode],
      approved: ['boolean', (r) => r.approved],
      expected: ['jsonb', (r) => r.expected],
      achieved: ['jsonb', (r) => r.achieved],
    },
    '(application_id) DO NOTHING',
  );
}
