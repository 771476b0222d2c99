import { quoteSchema } from '@kcflow/sql';
import { env, uniqueName } from './env';
import { seedEventStore } from './event-seeder';
import { dropSchemas, withAdmin } from './pg';
import { Report } from './report';

export interface EventSchema {
  schema: string;
  events: number;
  /** Drops the schema if this benchmark generated it (run-all owns the one it passes on). */
  release(): Promise<void>;
}

/**
 * The generated event store a benchmark works on: the one run-all generated for the whole run
 * (BENCH_EVENT_SCHEMA), or one of `count` events generated now and dropped afterwards.
 */
export async function eventSchema(report: Report, count: number): Promise<EventSchema> {
  if (env.eventSchema) {
    const schema = env.eventSchema;
    const events = await withAdmin(async (c) => Number((await c.query(`SELECT count(*) AS n FROM ${quoteSchema(schema)}.events`)).rows[0].n));
    report.setting('event store', `${schema}: ${events.toLocaleString('en-US')} generated events (shared by this run)`);
    return { schema, events, release: async () => undefined };
  }
  const schema = uniqueName('events');
  report.note(`generating ${count.toLocaleString('en-US')} events of realistic lifecycles into ${schema}`);
  const seeded = await seedEventStore(schema, count);
  report.setting('event store', {
    schema,
    events: seeded.events,
    applications: seeded.applications,
    programmes: seeded.programmes,
    generatedInSeconds: Math.round(seeded.seconds),
    stages: seeded.stages,
    types: seeded.types,
  });
  return { schema, events: seeded.events, release: () => dropSchemas([schema]) };
}
