/**
 * One append contender, in a process of its own (Emmett's driver sets pg's type parsers for
 * the whole process, and each contender should start with a cold, equal heap):
 *
 *   node dist/bench/appends/contender.js '{"contender":"kcflow","schema":"…","concurrency":32,"batch":1,"seconds":5,"warmupSeconds":1}'
 *
 * Appends to fresh streams (`application-<uuid>`) from `concurrency` loops for `seconds`
 * after a warm-up, and prints one JSON line with the counts and latencies.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Pool } from 'pg';
import { NewEvent, PostgresEventStore } from '@kcflow/event-store';
import { PgDatabase, quoteSchema } from '@kcflow/sql';
import { env } from '../lib/env';
import { Stamper, applicationPayload, prng } from '../lib/lifecycles';
import { withSearchPath } from '../lib/pg';
import { LatencySummary, msSince, summarize } from '../lib/stats';

export type ContenderName = 'kcflow' | 'raw' | 'emmett';

export interface ContenderArgs {
  contender: ContenderName;
  schema: string;
  concurrency: number;
  batch: number;
  seconds: number;
  warmupSeconds: number;
}

export interface ContenderResult {
  contender: ContenderName;
  appends: number;
  events: number;
  seconds: number;
  latencyMs: LatencySummary;
  /** Share of all cores busy during the measurement (every process on the machine), and this process's share of one core. */
  machineBusy: number;
  selfCores: number;
}

/** Busy and total jiffies of all cores, from /proc/stat. */
function cpuTimes(): { busy: number; total: number } {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number);
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  return { busy: total - idle - iowait, total };
}

type Append = (streamId: string, events: NewEvent[]) => Promise<unknown>;

/** Realistic events (ApplicationSubmitted as the CommandLoop stamps it, ≈1.2 KB of JSON), fresh ids per append. */
function templates(count: number): NewEvent[] {
  const random = prng(7);
  const stamper = new Stamper();
  return Array.from({ length: count }, (_, i) => {
    const { applicant, project } = applicationPayload(random, i, 'advanced_equipment');
    const data = { applicationId: `T${i}`, programmeId: 'HN-2024-city', category: 'advanced_equipment', ownerId: `facility-${i}`, applicant, project, cap: { maxShareOfCost: 0.5, maxAmount: 300_000_000 } };
    const [event] = stamper.stamp(`application-T${i}`, [{ type: 'ApplicationSubmitted', data }], { id: `facility-${i}`, role: 'applicant' }, new Date());
    return { id: event.id, type: event.type, data: event.data, metadata: event.metadata };
  });
}

async function kcflow(args: ContenderArgs): Promise<{ append: Append; close: () => Promise<void> }> {
  const db = new PgDatabase(env.pgUrl, args.concurrency);
  const store = new PostgresEventStore({ db, schema: args.schema });
  await store.migrate();
  return {
    append: (streamId, events) => store.append(streamId, events, 'no_stream'),
    close: async () => {
      await store.close();
      await db.close();
    },
  };
}

/**
 * The floor: the same rows into the same table in the same transaction shape as KCFlow's
 * append, one statement in the implicit transaction of that statement — here a bare
 * INSERT … SELECT FROM jsonb_array_elements(…), answering the last event's position as
 * KCFlow's append does, with no lock, no revision check, nothing else. The events travel as
 * one JSON array, as KCFlow sends them (append_events_v2): a VALUES list of 100 rows is 600
 * parameters, which costs PostgreSQL more to parse and plan than the rows cost to insert, and
 * arrays of JSON texts have every quote escaped by pg and unescaped by the server. And a
 * prepared statement, parsed and planned once per connection, as PL/pgSQL does for the
 * statements of KCFlow's append function: otherwise the floor would pay a cost KCFlow does not,
 * and not be a floor.
 */
async function raw(args: ContenderArgs): Promise<{ append: Append; close: () => Promise<void> }> {
  const setup = new PgDatabase(env.pgUrl, 1);
  await new PostgresEventStore({ db: setup, schema: args.schema }).migrate();
  await setup.close();
  const pool = new Pool({ connectionString: env.pgUrl, max: args.concurrency });
  const table = `${quoteSchema(args.schema)}.events`;
  return {
    append: async (streamId, events) => {
      await pool.query({
        name: 'raw-append',
        text: `WITH inserted AS (
                 INSERT INTO ${table} (stream_id, stream_revision, event_id, type, data, metadata)
                 SELECT $1, x.n - 1, (x.e->>'id')::uuid, x.e->>'type', x.e->'data', x.e->'metadata'
                 FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS x(e, n)
                 RETURNING stream_revision, transaction_id, global_position
               )
               SELECT transaction_id, global_position FROM inserted ORDER BY stream_revision DESC LIMIT 1`,
        values: [streamId, JSON.stringify(events.map(({ id, type, data, metadata }) => ({ id, type, data, metadata })))],
      });
    },
    close: () => pool.end(),
  };
}

/** The peer: Emmett's PostgreSQL event store on the same database, its tables in the run's own schema. */
async function emmett(args: ContenderArgs): Promise<{ append: Append; close: () => Promise<void> }> {
  const { getPostgreSQLEventStore } = await import('@event-driven-io/emmett-postgresql');
  const { STREAM_DOES_NOT_EXIST } = await import('@event-driven-io/emmett');
  const setup = new PgDatabase(env.pgUrl, 1);
  await setup.query(`CREATE SCHEMA IF NOT EXISTS ${quoteSchema(args.schema)}`);
  await setup.close();
  const url = withSearchPath(env.pgUrl, args.schema);
  const pool = new Pool({ connectionString: url, max: args.concurrency });
  const store = getPostgreSQLEventStore(url, { connectionOptions: { pool } });
  await store.schema.migrate();
  return {
    append: (streamId, events) =>
      store.appendToStream(
        streamId,
        events.map((e) => ({ type: e.type, data: e.data, metadata: { ...e.metadata, messageId: e.id } })),
        { expectedStreamVersion: STREAM_DOES_NOT_EXIST },
      ),
    close: async () => {
      await store.close();
      await pool.end().catch(() => undefined);
    },
  };
}

export async function runContender(args: ContenderArgs): Promise<ContenderResult> {
  const contender = await { kcflow, raw, emmett }[args.contender](args);
  const pool = templates(64);
  let measuring = false;
  let stopping = false;
  let appends = 0;
  const latencies: number[] = [];
  let templateIndex = 0;
  const nextEvents = (): NewEvent[] =>
    Array.from({ length: args.batch }, () => {
      const template = pool[templateIndex++ % pool.length];
      return { ...template, id: randomUUID() };
    });

  const loop = async () => {
    while (!stopping) {
      const events = nextEvents();
      const started = process.hrtime.bigint();
      await contender.append(`application-${randomUUID()}`, events);
      if (measuring && !stopping) {
        latencies.push(msSince(started));
        appends += 1;
      }
    }
  };
  const loops = Array.from({ length: args.concurrency }, loop);
  await new Promise((resolve) => setTimeout(resolve, args.warmupSeconds * 1000));
  measuring = true;
  const started = process.hrtime.bigint();
  const cpuBefore = cpuTimes();
  const selfBefore = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, args.seconds * 1000));
  stopping = true;
  const seconds = msSince(started) / 1000;
  const cpuAfter = cpuTimes();
  const self = process.cpuUsage(selfBefore);
  await Promise.all(loops);
  await contender.close();
  return {
    contender: args.contender,
    appends,
    events: appends * args.batch,
    seconds,
    latencyMs: summarize(latencies),
    machineBusy: (cpuAfter.busy - cpuBefore.busy) / (cpuAfter.total - cpuBefore.total),
    selfCores: (self.user + self.system) / 1e6 / seconds,
  };
}

if (require.main === module) {
  const args = JSON.parse(process.argv[2]) as ContenderArgs;
  runContender(args).then(
    (result) => {
      process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
      process.exit(0);
    },
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
