import { ApplicationEvent, ProgrammeEvent } from '@kcflow/domain';
import { RecordedEvent } from '@kcflow/event-store';
import { quoteSchema } from '@kcflow/sql';
import { Projection, firstDelivery, idInStream, migrateStreamRevisions, streamRevisionsTable } from '../projection';

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

  async migrate(db, schema) {
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
    await db.query(`CREATE INDEX IF NOT EXISTS outcome_applications_programme ON ${s}.outcome_applications (programme_id)`);
    await migrateStreamRevisions(db, schema, NAME);
  },

  async handle(tx, recorded, schema) {
    const s = quoteSchema(schema);
    const programmeId = idInStream(recorded.streamId, 'programme');
    if (programmeId !== undefined && PROGRAMME_EVENTS.has(recorded.type) && (await firstDelivery(tx, schema, NAME, recorded))) {
      const event = recorded as RecordedEvent & ProgrammeEvent;
      if (event.type === 'ProgrammeOpened') {
        await tx.query(`INSERT INTO ${s}.outcome_programmes (programme_id, year) VALUES ($1, $2) ON CONFLICT (programme_id) DO NOTHING`, [
          programmeId,
          event.data.year,
        ]);
      } else if (event.type === 'TargetsSet') {
        // New targets replace the old ones, as in the domain.
        await tx.query(`UPDATE ${s}.outcome_programmes SET targets = $2::jsonb WHERE programme_id = $1`, [
          programmeId,
          JSON.stringify(event.data.targets),
        ]);
      }
      return;
    }

    const applicationId = idInStream(recorded.streamId, 'application');
    if (applicationId === undefined || !APPLICATION_EVENTS.has(recorded.type) || !(await firstDelivery(tx, schema, NAME, recorded))) return;
    const event = recorded as RecordedEvent & ApplicationEvent;
    switch (event.type) {
      case 'ApplicationSubmitted':
        await tx.query(
          `INSERT INTO ${s}.outcome_applications (application_id, programme_id, tax_code, expected) VALUES ($1, $2, $3, $4::jsonb)
           ON CONFLICT (application_id) DO NOTHING`,
          [applicationId, event.data.programmeId, event.data.applicant.taxCode, JSON.stringify(event.data.project.expectedOutcomes ?? {})],
        );
        return;
      case 'ApplicationAmended':
        await tx.query(`UPDATE ${s}.outcome_applications SET expected = $2::jsonb WHERE application_id = $1`, [
          applicationId,
          JSON.stringify(event.data.project.expectedOutcomes ?? {}),
        ]);
        return;
      case 'ApplicationApproved':
        await tx.query(`UPDATE ${s}.outcome_applications SET approved = true WHERE application_id = $1`, [applicationId]);
        return;
      case 'OutcomeEvaluated':
        await tx.query(`UPDATE ${s}.outcome_applications SET achieved = $2::jsonb WHERE application_id = $1`, [
          applicationId,
          JSON.stringify(event.data.outcomes ?? {}),
        ]);
        return;
    }
  },
};

const PROGRAMME_EVENTS = new Set<string>(['ProgrammeOpened', 'TargetsSet']);
const APPLICATION_EVENTS = new Set<string>(['ApplicationSubmitted', 'ApplicationAmended', 'ApplicationApproved', 'OutcomeEvaluated']);
