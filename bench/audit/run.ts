/**
 * 4. Audit replay: the state of one application as of a revision, on a stream of
 * BENCH_AUDIT_EVENTS (10,000) events, through the history query handler that serves
 * GET /applications/:id/history?revision=; against a plain readStream of the same stream.
 */
import { ApplicationCommand, ApplicationState, DEFAULT_CAPS, applicationStream, decideApplication, evolveApplication, initialApplicationState } from '@kcflow/domain';
import { PostgresEventStore } from '@kcflow/event-store';
import { PgDatabase } from '@kcflow/sql';
import { GetHistoryHandler, GetHistoryQuery, applicationAggregate } from '@kcflow/workflow';
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

    const handler = new GetHistoryHandler(store);
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

    const read = await time(() => store.readStream(stream), env.auditSamples);
    report.add({ name: `readStream of the whole ${fmt(events.length)}-event stream, p50`, value: read.p50, unit: 'ms', digits: 1, isBaseline: true, note: `p99 ${read.p99.toFixed(1)} ms` });
    report.add({ name: `readStream of the whole ${fmt(events.length)}-event stream, p99`, value: read.p99, unit: 'ms', digits: 1, isBaseline: true });

    let sample = 0;
    const history = await time(() => handler.execute(new GetHistoryQuery('application', applicationId, undefined, revisions[sample++ % revisions.length])), env.auditSamples);
    report.add({
      name: 'state as of a revision (GetHistoryHandler), p50',
      value: history.p50,
      unit: 'ms',
      digits: 1,
      baselines: [{ name: 'readStream p50', value: read.p50 }],
      bars: [{ text: 'p50 < 20 ms', met: history.p50 < 20 }],
    });
    report.add({ name: 'state as of a revision (GetHistoryHandler), p99', value: history.p99, unit: 'ms', digits: 1, baselines: [{ name: 'readStream p99', value: read.p99 }] });

    // What reading only up to the revision would cost (the handler reads the whole stream today).
    sample = 0;
    const upTo = await time(() => store.readStream(stream, { toRevision: revisions[sample++ % revisions.length] }), env.auditSamples);
    report.add({ name: 'readStream up to the same revisions (toRevision), p50', value: upTo.p50, unit: 'ms', digits: 1, baselines: [{ name: 'whole-stream readStream p50', value: read.p50 }], note: `p99 ${upTo.p99.toFixed(1)} ms` });

    // Where the time goes: the fold alone, in memory, over the whole stream.
    const recorded = await store.readStream(stream);
    const fold = await time(async () => recorded.reduce((s, e) => applicationAggregate.evolve(s, e as never), applicationAggregate.initialState()), 50);
    report.add({ name: `fold of all ${fmt(events.length)} events with evolveApplication (in memory), p50`, value: fold.p50, unit: 'ms', digits: 1, baselines: [{ name: 'readStream p50', value: read.p50 }] });
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
