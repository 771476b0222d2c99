/**
 * A what-if for RESULTS.md, not KCFlow's code: the applications projection applied set-wise,
 * a batch at a time — one read of the batch's stream marks, one INSERT of the new rows, one
 * UPDATE of the changed rows and one upsert of the marks (unnest arrays), instead of two
 * statements per event — to show what the per-event round trips cost. It writes the same
 * tables as applicationsProjection; the benchmark checks that the rows come out identical.
 *
 *   BENCH_PROTOTYPE=1 npm run bench:rebuild
 */
import { ApplicationEvent } from '@kcflow/domain';
import { EventStore, GlobalPosition, RecordedEvent } from '@kcflow/event-store';
import { applicationsProjection, idInStream, occurredAt, streamRevisionsTable } from '@kcflow/read-models';
import { SqlDatabase, SqlQueryable, quoteSchema } from '@kcflow/sql';
import { foldForSearch } from '../../libs/read-models/src/applications/search-text';

interface NewRow {
  id: string;
  programme_id: string;
  category: string;
  status: string;
  payment_status: string;
  applicant_name: string;
  tax_code: string;
  applicant_kind: string;
  district: string;
  commune: string;
  craft_village: string | null;
  owner_id: string;
  title: string;
  total_cost: number;
  requested_amount: number;
  approved_amount: number | null;
  disbursed_amount: number;
  score: number | null;
  search_text: string;
  submitted_at: string;
  updated_at: string;
  revision: number;
}

interface Change {
  id: string;
  revision: number;
  updated_at: string;
  status: string | null;
  score: number | null;
  approved_amount: number | null;
  title: string | null;
  total_cost: number | null;
  requested_amount: number | null;
  disbursed: number;
}

const STATUS: Partial<Record<ApplicationEvent['type'], string>> = {
  RevisionRequested: 'revision_requested',
  ApplicationAmended: 'submitted',
  ApplicationReviewed: 'reviewed',
  ApplicationApproved: 'approved',
  ApplicationRejected: 'rejected',
  ApplicationWithdrawn: 'withdrawn',
  OutcomeEvaluated: 'evaluated',
  ApplicationClosed: 'closed',
};

async function applyBatch(tx: SqlQueryable, schema: string, batch: readonly RecordedEvent[]): Promise<void> {
  const s = quoteSchema(schema);
  const marksTable = `${s}.${streamRevisionsTable('applications')}`;
  const relevant = batch.filter((e) => idInStream(e.streamId, 'application') !== undefined);
  if (relevant.length === 0) return;
  // 1. The marks: an event at or below its stream's mark was applied before (a redelivery).
  const streams = [...new Set(relevant.map((e) => e.streamId))];
  const marks = new Map((await tx.query<{ stream_id: string; revision: number }>(`SELECT stream_id, revision FROM ${marksTable} WHERE stream_id = ANY($1::text[])`, [streams])).map((r) => [r.stream_id, r.revision]));

  // 2. Fold the batch per application: whole rows for the new ones, one change for each other.
  const inserts = new Map<string, NewRow>();
  const changes = new Map<string, Change>();
  for (const recorded of relevant) {
    if (recorded.revision <= (marks.get(recorded.streamId) ?? -1)) continue;
    marks.set(recorded.streamId, recorded.revision);
    const id = idInStream(recorded.streamId, 'application')!;
    const event = recorded as RecordedEvent & ApplicationEvent;
    const at = occurredAt(event);
    if (event.type === 'ApplicationSubmitted') {
      const { programmeId, category, ownerId, applicant, project } = event.data;
      inserts.set(id, {
        id, programme_id: programmeId, category, status: 'submitted', payment_status: 'none', applicant_name: applicant.name, tax_code: applicant.taxCode,
        applicant_kind: applicant.kind, district: applicant.district, commune: applicant.commune, craft_village: applicant.craftVillage ?? null, owner_id: ownerId,
        title: project.title, total_cost: project.totalCost, requested_amount: project.requestedAmount, approved_amount: null, disbursed_amount: 0, score: null,
        search_text: foldForSearch(`${applicant.name}\n${applicant.taxCode}`), submitted_at: at, updated_at: at, revision: event.revision,
      });
      continue;
    }
    const row = inserts.get(id);
    const change = row ? undefined : (changes.get(id) ?? { id, revision: 0, updated_at: at, status: null, score: null, approved_amount: null, title: null, total_cost: null, requested_amount: null, disbursed: 0 });
    const target = row ?? change!;
    target.revision = event.revision;
    target.updated_at = at;
    if (STATUS[event.type]) target.status = STATUS[event.type]!;
    if (event.type === 'ApplicationAmended') Object.assign(target, { title: event.data.project.title, total_cost: event.data.project.totalCost, requested_amount: event.data.project.requestedAmount });
    if (event.type === 'ApplicationReviewed') target.score = event.data.score;
    if (event.type === 'ApplicationApproved') target.approved_amount = event.data.approvedAmount;
    if (event.type === 'FundsDisbursed') {
      if (row) {
        row.disbursed_amount += event.data.amount;
        row.payment_status = row.approved_amount !== null && row.disbursed_amount >= row.approved_amount ? 'full' : 'partial';
      } else change!.disbursed += event.data.amount;
    }
    if (change) changes.set(id, change);
  }

  // 3. The rows, the changes and the marks: one statement each.
  const rows = [...inserts.values()];
  if (rows.length > 0) {
    const col = <K extends keyof NewRow>(k: K) => rows.map((r) => r[k]);
    await tx.query(
      `INSERT INTO ${s}.applications (id, programme_id, category, status, payment_status, applicant_name, tax_code, applicant_kind, district, commune,
         craft_village, owner_id, title, total_cost, requested_amount, approved_amount, disbursed_amount, score, search_text, submitted_at, updated_at, revision)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
         $11::text[], $12::text[], $13::text[], $14::bigint[], $15::bigint[], $16::bigint[], $17::bigint[], $18::int[], $19::text[], $20::timestamptz[], $21::timestamptz[], $22::int[])`,
      [col('id'), col('programme_id'), col('category'), col('status'), col('payment_status'), col('applicant_name'), col('tax_code'), col('applicant_kind'), col('district'), col('commune'),
        col('craft_village'), col('owner_id'), col('title'), col('total_cost'), col('requested_amount'), col('approved_amount'), col('disbursed_amount'), col('score'), col('search_text'), col('submitted_at'), col('updated_at'), col('revision')],
    );
  }
  const updates = [...changes.values()];
  if (updates.length > 0) {
    const col = <K extends keyof Change>(k: K) => updates.map((r) => r[k]);
    await tx.query(
      `UPDATE ${s}.applications t SET revision = u.revision, updated_at = u.updated_at, status = coalesce(u.status, t.status), score = coalesce(u.score, t.score),
         approved_amount = coalesce(u.approved_amount, t.approved_amount), title = coalesce(u.title, t.title), total_cost = coalesce(u.total_cost, t.total_cost),
         requested_amount = coalesce(u.requested_amount, t.requested_amount), disbursed_amount = t.disbursed_amount + u.disbursed,
         payment_status = CASE WHEN u.disbursed = 0 THEN t.payment_status
                               WHEN coalesce(u.approved_amount, t.approved_amount) IS NOT NULL AND t.disbursed_amount + u.disbursed >= coalesce(u.approved_amount, t.approved_amount) THEN 'full'
                               ELSE 'partial' END
       FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::text[], $5::int[], $6::bigint[], $7::text[], $8::bigint[], $9::bigint[], $10::bigint[])
         AS u(id, revision, updated_at, status, score, approved_amount, title, total_cost, requested_amount, disbursed)
       WHERE t.id = u.id`,
      [col('id'), col('revision'), col('updated_at'), col('status'), col('score'), col('approved_amount'), col('title'), col('total_cost'), col('requested_amount'), col('disbursed')],
    );
  }
  const marked = streams.filter((stream) => marks.has(stream));
  await tx.query(
    `INSERT INTO ${marksTable} AS applied (stream_id, revision) SELECT * FROM unnest($1::text[], $2::int[])
     ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision WHERE applied.revision < excluded.revision`,
    [marked, marked.map((stream) => marks.get(stream)!)],
  );
}

/** Replays the whole store into `<schema>.applications` (fresh), a batch per transaction, as rebuildProjection does. */
export async function rebuildApplicationsSetWise(store: EventStore, db: SqlDatabase, schema: string, batchSize = 500): Promise<{ events: number; seconds: number }> {
  const started = process.hrtime.bigint();
  await db.query(`CREATE SCHEMA IF NOT EXISTS ${quoteSchema(schema)}`);
  await applicationsProjection.migrate(db, schema);
  let after: GlobalPosition | undefined;
  let events = 0;
  for (;;) {
    const batch = await store.readAll({ after, limit: batchSize });
    if (batch.length === 0) break;
    await db.transaction((tx) => applyBatch(tx, schema, batch));
    after = batch[batch.length - 1].position;
    events += batch.length;
  }
  return { events, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}
