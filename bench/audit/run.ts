/**
 * 4. Audit replay: the state of one application as of a revision, on a stream of
 * BENCH_AUDIT_EVENTS (10,000) events, through the history query handler that serves
 * GET /applications/:id/history?revision=; against a plain readStream of the same stream.
 * Two answers are measured, as shipped: API.md's default (the state and every event up to
 * the revision) and the paged one (`eventsLimit`: the state and the last page of events),
 * which loads the state from a snapshot (SqlSnapshotStore, the api's wiring on PostgreSQL).
 */
import { ApplicationCommand, ApplicationState, DEFAULT_CAPS, applicationStream, decideApplication, evolveApplication, foldApplication, initialApplicationState } from '@kcflow/domain';
import { PostgresEventStore } from '@kcflow/event-store';
import { SqlSnapshotStore } from '@kcflow/runtime';
import { PgDatabase } from '@kcflow/sql';
import { GetHistoryHandler, GetHistoryQuery, SNAPSHOT_EVERY } from '@kcflow/workflow';
import { env, uniqueName } from '../lib/env';
import { GeneratedEvent, Stamper, applicationPayload, prng } from '../lib/lifecycles';
import { dropSchemas } from '../lib/pg';
import { Report } from '../lib/report';
import { fmt, msSince, summarize } from '../lib/stats';

/**
 * A long-lived application: submitted, sent back and amended many times, appraised, approved,
 * then paid in thousands of small tranches — every kind of event the fold meets, in numbers.
 */
function longStream(applicationId: string, size: number): GeneratedEvent[] {
  const random = prng(5);
  const stamper = new Stamper();
  const stream = applicationStream(applicationId);
  const { applicant, project } = applicationPayload(random, 1, 'advanced_equipment');
  const approved = project.requestedAmount;
  const cycles = Math.floor(((size - 3) * 0.4) / 2);
  const payments = size - 3 - 2 * cycles;
  const tranche = Math.floor((approved * 0.7) / payments);
  if (tranche < 1) throw new Error('too many payments for the approved amount');
  let state: ApplicationState = initialApplicationState();
  const events: GeneratedEvent[] = [];
  let at = Date.parse('2024-01-02T08:00:00Z');
  const act = (actorId: string, role: string, command: Record<string, unknown>) => {
    const decided = decideApplication({ ...command, actor: { id: actorId } } as ApplicationCommand, state);
    state = decided.reduce(evolveApplication, state);
    events.push(...stamper.stamp(stream, decided, { id: actorId, role }, new Date((at += 60_000))));
  };
  act('facility-1', 'applicant', {
    type: 'SubmitApplication',
    data: { applicationId, applicant, project, programme: { programmeId: 'HN-2024-city', category: 'advanced_equipment', cap: DEFAULT_CAPS.advanced_equipment, advanceShare: 0.7, categoryFunded: true } },
  });
  for (let i = 0; i < cycles; i++) {
    act('reviewer-1', 'reviewer', { type: 'RequestRevision', data: { reason: `Bổ sung hồ sơ lần ${i + 1}` } });
    act('facility-1', 'applicant', { type: 'AmendApplication', data: { project: { ...project, description: `${project.description} (sửa đổi ${i + 1})` } } });
  }
  act('reviewer-1', 'reviewer', { type: 'ReviewApplication', data: { score: 85, recommendation: 'approve', recommendedAmount: approved } });
  act('committee-1', 'committee', { type: 'ApproveApplication', data: { decisionNumber: '1234/QĐ-UBND', decisionDate: '2024-05-02', approvedAmount: approved, advanceShare: 0.7 } });
  for (let i = 0; i < payments; i++) {
    act('finance-1', 'finance', { type: 'DisburseFunds', data: { paymentRef: `KBNN-2024-${String(i).padStart(6, '0')}`, amount: tranche, paidAt: '2024-06-01' } });
  }
  return events;
}

export async function main(): Promise<void> {
  const report = new Report('audit', '4. Audit replay');
  const schema = uniqueName('audit');
  const db = new PgDatabase(env.pgUrl, 4);
  const store = new PostgresEventStore({ db, schema });
  try {
    await store.migrate();
    const applicationId = 'AUDIT-1';
    const stream = applicationStream(applicationId);
    const events = longStream(applicationId, env.auditEvents);
    for (let i = 0; i < events.length; i += 500) {
      await store.append(stream, events.slice(i, i + 500), i === 0 ? 'no_stream' : i - 1);
    }
    const counts = events.reduce<Record<string, number>>((acc, e) => ({ ...acc, [e.type]: (acc[e.type] ?? 0) + 1 }), {});
    report.setting('stream', { events: events.length, types: counts });
    report.setting('samples', `${env.auditSamples} queries each, revisions drawn uniformly from 0…${events.length - 1}, one at a time, after 20 warm-up queries`);

    const snapshots = new SqlSnapshotStore(db, schema);
    await snapshots.migrate();
    const handler = new GetHistoryHandler(store, snapshots);
    const withoutSnapshots = new GetHistoryHandler(store);
    const PAGE = 50;
    report.setting('page', `eventsLimit=${PAGE}; snapshots every ${SNAPSHOT_EVERY} revisions`);
    const random = prng(3);
    const revisions = Array.from({ length: env.auditSamples }, () => Math.floor(random() * events.length));
    const time = async (work: () => Promise<unknown>, n: number) => {
      for (let i = 0; i < 20; i++) await work();
      const samples: number[] = [];
      for (let i = 0; i < n; i++) {
        const started = process.hrtime.bigint();
        await work();
        samples.push(msSince(started));
      }
      return summarize(samples);
    };
    let sample = 0;
    const nextRevision = () => revisions[sample++ % revisions.length];

    const read = await time(() => store.readStream(stream), env.auditSamples);
    report.add({ name: `readStream of the whole ${fmt(events.length)}-event stream, p50`, value: read.p50, unit: 'ms', digits: 1, isBaseline: true, note: `p99 ${read.p99.toFixed(1)} ms` });
    report.add({ name: `readStream of the whole ${fmt(events.length)}-event stream, p99`, value: read.p99, unit: 'ms', digits: 1, isBaseline: true });

    // API.md's answer: every event up to the revision, and the state folded from them.
    sample = 0;
    const history = await time(() => handler.execute(new GetHistoryQuery('application', applicationId, undefined, nextRevision())), env.auditSamples);
    report.add({
      name: 'state as of a revision with every event up to it (GetHistoryHandler, default answer), p50',
      value: history.p50,
      unit: 'ms',
      digits: 1,
      baselines: [{ name: 'readStream p50', value: read.p50 }],
      bars: [{ text: 'p50 < 20 ms', met: history.p50 < 20 }],
    });
    report.add({ name: 'state as of a revision with every event up to it (default answer), p99', value: history.p99, unit: 'ms', digits: 1, baselines: [{ name: 'readStream p99', value: read.p99 }] });

    // The paged answer, first on a stream that has no snapshot yet (the stream was appended
    // directly, not through commands): it folds from the start, answers, then writes them.
    const snapshotStats = async () => {
      const [row] = await db.query<{ count: string; bytes: string }>(`SELECT count(*) AS count, coalesce(sum(octet_length(state)), 0) AS bytes FROM "${schema}".snapshots`);
      return { count: Number(row.count), bytes: Number(row.bytes) };
    };
    const coldStarted = process.hrtime.bigint();
    await handler.execute(new GetHistoryQuery('application', applicationId, undefined, events.length - 1, { limit: PAGE }));
    const cold = msSince(coldStarted);
    const expected = Math.floor(events.length / SNAPSHOT_EVERY);
    while ((await snapshotStats()).count < expected && msSince(coldStarted) < 120_000) await new Promise((r) => setTimeout(r, 20));
    const written = msSince(coldStarted);
    const stats = await snapshotStats();
    report.add({ name: 'paged answer, first query on a stream without snapshots (folds it all; writes them after answering)', value: cold, unit: 'ms', digits: 1, baselines: [{ name: 'readStream p50', value: read.p50 }], note: `${stats.count} snapshots, ${(stats.bytes / 1e6).toFixed(1)} MB of state, all written ${(written / 1000).toFixed(1)} s after the query began` });

    sample = 0;
    const paged = await time(() => handler.execute(new GetHistoryQuery('application', applicationId, undefined, nextRevision(), { limit: PAGE })), env.auditSamples);
    report.add({
      name: `state as of a revision with the last ${PAGE} events (eventsLimit=${PAGE}, from a snapshot), p50`,
      value: paged.p50,
      unit: 'ms',
      digits: 1,
      baselines: [{ name: 'readStream p50', value: read.p50 }],
      bars: [{ text: 'p50 < 20 ms', met: paged.p50 < 20 }],
    });
    report.add({ name: `state as of a revision with the last ${PAGE} events (from a snapshot), p99`, value: paged.p99, unit: 'ms', digits: 1, baselines: [{ name: 'readStream p99', value: read.p99 }] });

    // The same paged answer with no snapshot store: what the snapshots alone are worth.
    sample = 0;
    const pagedNoSnapshots = await time(() => withoutSnapshots.execute(new GetHistoryQuery('application', applicationId, undefined, nextRevision(), { limit: PAGE })), env.auditSamples);
    report.add({ name: `the same paged answer without snapshots (reads and folds up to the revision), p50`, value: pagedNoSnapshots.p50, unit: 'ms', digits: 1, baselines: [{ name: 'readStream p50', value: read.p50 }] });

    // What reading only up to the revision costs: the floor of the default answer.
    sample = 0;
    const upTo = await time(() => store.readStream(stream, { toRevision: nextRevision() }), env.auditSamples);
    report.add({ name: 'readStream up to the same revisions (toRevision), p50', value: upTo.p50, unit: 'ms', digits: 1, baselines: [{ name: 'whole-stream readStream p50', value: read.p50 }], note: `p99 ${upTo.p99.toFixed(1)} ms` });

    // Where the time goes: the fold alone, in memory, over the whole stream.
    const recorded = await store.readStream(stream);
    const reduced = await time(async () => recorded.reduce((s, e) => evolveApplication(s, e as never), initialApplicationState()), 50);
    report.add({ name: `fold of all ${fmt(events.length)} events, evolveApplication one by one (in memory), p50`, value: reduced.p50, unit: 'ms', digits: 1, baselines: [{ name: 'readStream p50', value: read.p50 }] });
    const folded = await time(async () => foldApplication(initialApplicationState(), recorded as never), 50);
    report.add({ name: `fold of all ${fmt(events.length)} events, foldApplication (in memory, as the handler folds), p50`, value: folded.p50, unit: 'ms', digits: 1, baselines: [{ name: 'readStream p50', value: read.p50 }] });
  } finally {
    await store.close();
    await db.close();
    await dropSchemas([schema]);
  }
  report.finish();
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
