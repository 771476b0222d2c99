import { EventStore, GlobalPosition, RecordedEvent, comparePositions, formatPosition, parsePosition } from '@kcflow/event-store';
import { SqlDatabase, SqlQueryable, quoteSchema } from '@kcflow/sql';
import { Projection, ProjectionFold, failingEvent, firstDelivery, handleBatch, saveMarks } from './projection';

/**
 * The lock that keeps a projection's batches and a rebuild's switch-over apart. The runner
 * takes it first thing in every batch transaction, the switch-over first thing in its own:
 * so the switch never moves tables under a half-written batch, and a batch that waited for
 * the switch resolves its table names afterwards, i.e. writes into the new tables. It is an
 * advisory lock rather than a row lock on the checkpoint: the checkpoint row may not exist
 * yet, and a batch takes its row lock only at its end, after it has locked the projection's
 * tables — the reverse of the switch-over's order, which would deadlock.
 */
export async function lockProjection(tx: SqlQueryable, schema: string, projectionName: string): Promise<void> {
  // The two-key form lives apart from the one-key advisory locks the event store takes.
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', ['kcflow.projection', `${schema}.${projectionName}`]);
}

export interface RebuildProgress {
  projections: readonly string[];
  /** Events replayed into the new tables so far. */
  replayed: number;
  /** Events in the store when the rebuild started, if the store can count them. */
  total: number | undefined;
}

export interface RebuildOptions {
  store: EventStore;
  db: SqlDatabase;
  /** The live read-model schema. */
  schema: string;
  /** Rebuilt together, in one pass over the events; each is switched over on its own. */
  projections: readonly Projection[];
  /**
   * Events per read of the store (default 1,000). Writes no longer follow the reads, so reads
   * can be small: on the benchmark's store, reads of 1,000 took the rebuild 10 % less CPU in
   * node and 40 MB less heap than reads of 5,000, and PostgreSQL 5 % more.
   */
  batchSize?: number;
  /**
   * Rows each projection folds in memory before it writes them, in one transaction (default
   * 5,000): the larger, the more applications are inserted once as all their events leave
   * them rather than inserted, then updated by later writes. See FoldWriter for the memory.
   * On the benchmark's store, 10,000 and 25,000 saved PostgreSQL little more CPU than 5,000
   * and raised the rebuild's peak RSS by 30–120 MB.
   */
  rowsPerWrite?: number;
  onProgress?: (progress: RebuildProgress) => void;
  /**
   * How long to wait, before switching, for a runner that is applying live events to reach
   * the end of the replay (default 10 s). 0 when no runner can exist (the embedded store
   * opened by a script). See rebuildProjections, step 2.
   */
  waitForRunnerMs?: number;
}

export interface RebuildResult {
  projection: string;
  /** Events the new tables hold, i.e. replayed before or caught up during the switch. */
  events: number;
  position: string | null;
  seconds: number;
}

/** One projection being rebuilt: where its new tables stand. */
interface Rebuilding {
  projection: Projection;
  position: GlobalPosition | undefined;
  replayed: number;
}

/**
 * Rebuilds projections from the first event into fresh tables and switches each in, while
 * readers keep reading the old tables and a runner keeps applying live events to them:
 *
 * 1. Creates `<schema>_rebuild_<time>` and replays every event into it, every projection from
 *    the same reads; each projection folds the events in memory and writes the rows once it
 *    holds `rowsPerWrite` of them (FoldWriter), while the next events are read and folded.
 *    The tables have only their primary keys until the replay ends; then their other indexes.
 * 2. Per projection: waits (bounded) until the live checkpoint has reached the end of the
 *    replay, so the switch can usually keep the checkpoint where the runner left it.
 * 3. In one transaction, under lockProjection: reads the live checkpoint; if it is ahead of
 *    the replay, applies the few events in between to the new tables; moves the live tables
 *    into `<schema>_retired_<time>` and the new ones into the live schema; sets the checkpoint.
 *    Readers block on the table locks for that instant, then read the new tables: never an
 *    empty or half-built one. The new tables never stand behind the old ones.
 *    If the runner got ahead by more than the prefetched events, it tries again from 1's end.
 * 4. Drops the retired and (on failure) the unfinished tables. A failed replay — a poison
 *    event — leaves the live tables and checkpoints untouched and names the event.
 *
 * The runner's checkpoint fencing (ProjectionRunner.saveCheckpoint) does the rest: when the
 * switch moved the checkpoint (the runner was stopped, or more than waitForRunnerMs behind),
 * the runner's next batch finds it moved and rolls back without writing; with leases the runner
 * stands down and resumes from the new checkpoint, without (one process, the embedded store)
 * it stops until start() — which the api's rebuild endpoint calls after the switch.
 */
export async function rebuildProjections(options: RebuildOptions): Promise<RebuildResult[]> {
  const { store, db, schema } = options;
  const batchSize = options.batchSize ?? 1_000;
  const rowsPerWrite = options.rowsPerWrite ?? 5_000;
  const started = Date.now();
  const stamp = `${started.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const fresh = sideSchema(schema, 'rebuild', stamp);
  const retired = sideSchema(schema, 'retired', stamp);
  // Only for progress, so counted beside the replay rather than before it: on PostgreSQL the
  // count scans the whole events table, about 4 % of the rebuild's time on the bench store.
  let total: number | undefined;
  const counting = store.countEvents?.().then((count) => void (total = count));
  counting?.catch(() => undefined); // awaited after the replay; not an unhandled rejection meanwhile
  const live = quoteSchema(schema);
  const names = options.projections.map((projection) => projection.name);
  const rebuilding: Rebuilding[] = options.projections.map((projection) => ({ projection, position: undefined, replayed: 0 }));
  const progress = () => options.onProgress?.({ projections: names, replayed: Math.max(...rebuilding.map((r) => r.replayed)), total });

  /** Replays into the new tables of `targets`, which stand at the same position, up to the head. */
  const replayToHead = async (targets: Rebuilding[]) => {
    const read = (after: GlobalPosition | undefined) => {
      const events = store.readAll({ after, limit: batchSize });
      events.catch(() => undefined); // awaited below; not an unhandled rejection if a write fails first
      return events;
    };
    const writers = targets.map((target) => new FoldWriter(db, fresh, target.projection, target.position, rowsPerWrite, (span) => nameFailure(target.projection, span)));
    let next = read(targets[0].position);
    for (;;) {
      const events = await next;
      if (events.length === 0) break;
      // Not awaited before the fold: on PostgreSQL the read runs on another connection meanwhile.
      // On PGlite, whose one connection a write holds, it simply runs before or after.
      next = read(events[events.length - 1].position);
      // A write per projection: on PostgreSQL they run side by side, on connections of their own.
      await Promise.all(writers.map((writer) => writer.add(events)));
      for (const target of targets) {
        target.position = events[events.length - 1].position;
        target.replayed += events.length;
      }
      progress();
      // PGlite answers in microtasks: without a turn of the event loop between batches, an api
      // rebuilding in-process would serve no request until the replay ends.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(writers.map((writer) => writer.flush()));
  };

  /**
   * Names the event a fold failed on: its events are replayed again into the new tables, which
   * stand where the fold began, a batch at a time through handleBatch, whose failure
   * inTransaction reports with the event. A fold whose events all apply failed for another
   * reason (the database went away): its own error is rethrown.
   */
  const nameFailure = async (projection: Projection, span: FoldSpan): Promise<never> => {
    for (let after = span.after; ; ) {
      const events = (await store.readAll({ after, limit: batchSize })).filter((event) => comparePositions(event.position, span.upTo) <= 0);
      if (events.length === 0) throw span.error;
      await inTransaction(db, fresh, (tx) => apply(tx, fresh, projection, events));
      after = events[events.length - 1].position;
    }
  };

  /** Steps 2 and 3 for one projection; false if the live runner got too far ahead. */
  const switchOver = async (target: Rebuilding) => {
    const { projection } = target;
    await waitForCheckpoint(db, schema, projection.name, target.position, options.waitForRunnerMs ?? 10_000);
    // Read before the transaction: on PGlite the store shares the one connection, which the
    // transaction holds until it ends.
    const pending = await store.readAll({ after: target.position, limit: Math.max(batchSize, 1_000) });
    const caughtUp = { position: target.position, replayed: target.replayed };
    const switched = await inTransaction(db, fresh, async (tx) => {
      await lockProjection(tx, schema, projection.name);
      const liveAt = await checkpointOf(tx, schema, projection.name);
      if (liveAt && (!target.position || comparePositions(liveAt, target.position) > 0)) {
        const upTo = pending.filter((event) => comparePositions(event.position, liveAt) <= 0);
        if (upTo.length === 0 || comparePositions(upTo[upTo.length - 1].position, liveAt) !== 0) return false;
        await apply(tx, fresh, projection, upTo);
        Object.assign(caughtUp, { position: liveAt, replayed: target.replayed + upTo.length });
      }
      await tx.query(`CREATE SCHEMA IF NOT EXISTS ${quoteSchema(retired)}`);
      for (const table of projection.tables) await tx.query(`ALTER TABLE IF EXISTS ${live}.${table} SET SCHEMA ${quoteSchema(retired)}`);
      for (const table of projection.tables) await tx.query(`ALTER TABLE ${quoteSchema(fresh)}.${table} SET SCHEMA ${live}`);
      await tx.query(
        `INSERT INTO ${live}.projection_checkpoints AS c (name, position, events_applied, updated_at) VALUES ($1, $2, $3, now())
         ON CONFLICT (name) DO UPDATE SET position = excluded.position, events_applied = excluded.events_applied,
           updated_at = now(), last_error = NULL, last_error_event_id = NULL`,
        [projection.name, caughtUp.position ? formatPosition(caughtUp.position) : null, caughtUp.replayed],
      );
      return true;
    });
    if (switched) Object.assign(target, caughtUp);
    return switched;
  };

  progress();
  const results: RebuildResult[] = [];
  await db.query(`CREATE SCHEMA ${quoteSchema(fresh)}`);
  try {
    for (const { projection } of rebuilding) await projection.createTables(db, fresh);
    await replayToHead(rebuilding);
    // Built once on the full tables rather than entry by entry during the replay: on the
    // benchmark's million events, PostgreSQL's CPU per event went from 14.4–15.7 to 13.0–13.6 µs.
    // The primary keys stay: the folds' UPDATE … FROM and ON CONFLICT look rows up by them.
    for (const { projection } of rebuilding) await projection.createIndexes?.(db, fresh);
    await counting;
    for (const target of rebuilding) {
      for (let attempt = 1; !(await switchOver(target)); attempt++) {
        if (attempt >= 20) throw new Error(`Projection ${target.projection.name}: could not switch over; the live runner kept moving ahead`);
        await replayToHead([target]);
      }
      results.push({
        projection: target.projection.name,
        events: target.replayed,
        position: target.position ? formatPosition(target.position) : null,
        seconds: (Date.now() - started) / 1000,
      });
    }
  } finally {
    await db.query(`DROP SCHEMA IF EXISTS ${quoteSchema(fresh)} CASCADE`);
    await db.query(`DROP SCHEMA IF EXISTS ${quoteSchema(retired)} CASCADE`);
  }
  progress();
  return results;
}

/** The events of a fold that failed: those after `after`, up to `upTo`. */
interface FoldSpan {
  after: GlobalPosition | undefined;
  upTo: GlobalPosition;
  error: unknown;
}

/**
 * One projection's side of a rebuild: it folds the events of many reads into one fold and
 * writes it, rows and stream marks, in one transaction once it holds `rowsPerWrite` rows. So an
 * application whose events span several reads is inserted once, as they leave it, instead of
 * inserted and then updated (dead tuples, index entries) — for every application that the
 * fold holds from its submission on.
 *
 * The marks can stay in memory between writes because a rebuild meets each event once, in
 * order, in tables nothing else writes: the events a fold takes are those handleBatch would
 * take from the same events in one batch, and the rows the same, as they must not depend on
 * how the events are cut.
 *
 * Each write runs while the next events are read and folded, one write at a time, in order.
 * Memory: two folds at most (one being written, one being filled), each of fewer than
 * rowsPerWrite + batchSize rows (an event changes at most one row) and a mark per stream in it.
 */
class FoldWriter {
  private fold: ProjectionFold;
  private marks = new Map<string, number>();
  /**
   * The streams whose first event the fold holds. No mark exists for them yet, as a rebuild
   * meets each event once, in order: theirs are inserted without the upsert's lookup, which
   * took 1.5–2.2 µs of PostgreSQL's CPU per event (about 12 %) on the benchmark's million.
   */
  private newStreams = new Set<string>();
  /** The fold's events: after `after`, up to `upTo`. */
  private after: GlobalPosition | undefined;
  private upTo: GlobalPosition | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: SqlDatabase,
    private readonly schema: string,
    private readonly projection: Projection,
    after: GlobalPosition | undefined,
    private readonly rowsPerWrite: number,
    private readonly nameFailure: (span: FoldSpan) => Promise<never>,
  ) {
    this.fold = projection.fold();
    this.after = this.upTo = after;
  }

  /** Folds `events` (not empty); starts a write if the fold holds rowsPerWrite rows. */
  async add(events: readonly RecordedEvent[]): Promise<void> {
    const upTo = (this.upTo = events[events.length - 1].position);
    try {
      for (const event of events) {
        if (!this.projection.applies(event) || !firstDelivery(this.marks, event)) continue;
        this.fold.add(event);
        if (event.revision === 0) this.newStreams.add(event.streamId);
      }
    } catch (error) {
      await this.writing; // the fold stands on the writes before it, which may have failed first
      await this.nameFailure({ after: this.after, upTo, error });
    }
    if (this.fold.rows >= this.rowsPerWrite) await this.write();
  }

  /** Writes what is folded; resolves once every write has committed. */
  async flush(): Promise<void> {
    await this.write();
    await this.writing;
  }

  /** Waits for the write before (failing if it failed), then starts writing the fold. */
  private async write(): Promise<void> {
    await this.writing;
    const { fold, marks, newStreams, after, upTo } = this;
    this.fold = this.projection.fold();
    this.marks = new Map();
    this.newStreams = new Set();
    this.after = upTo;
    if (marks.size === 0 || !upTo) return;
    this.writing = this.db
      .transaction(async (tx) => {
        // Every statement of a write looks its rows up by key, but the planner, which has no
        // statistics for the new tables (and with them, ANALYZE'd, chose the same), scanned the
        // whole table for the folds' UPDATE … WHERE key = ANY(…) of a few thousand keys: a cost
        // that grows with the table. Without the scans, PostgreSQL's CPU per event on the
        // benchmark's million events was 0.5–1.0 µs (4–8 %) lower, in three pairs.
        await tx.query('SET LOCAL enable_seqscan = off');
        await fold.write(tx, this.schema);
        await saveMarks(tx, this.schema, this.projection.name, marks, newStreams);
      })
      .catch((error: unknown) => this.nameFailure({ after, upTo, error }));
    this.writing.catch(() => undefined); // awaited by the next write or flush; not unhandled meanwhile
  }
}

/** A projection failed on a batch of events. */
class BatchFailed extends Error {
  constructor(
    readonly projection: Projection,
    readonly events: readonly RecordedEvent[],
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

async function apply(tx: SqlQueryable, schema: string, projection: Projection, events: readonly RecordedEvent[]): Promise<void> {
  try {
    await handleBatch(tx, projection, events, schema);
  } catch (error) {
    throw new BatchFailed(projection, events, error);
  }
}

/**
 * Runs `work` in a transaction. A batch that failed in it is reported with its projection and
 * event, looked for once the transaction has rolled back: on PGlite the search needs the one
 * connection the transaction held.
 */
async function inTransaction<T>(db: SqlDatabase, schema: string, work: (tx: SqlQueryable) => Promise<T>): Promise<T> {
  try {
    return await db.transaction(work);
  } catch (error) {
    if (!(error instanceof BatchFailed)) throw error;
    const event = await failingEvent(db, error.projection, schema, error.events);
    const where = event ? `event ${event.id} (${event.type}, ${event.streamId}@${event.revision})` : `a batch of ${error.events.length} events`;
    throw new Error(`Projection ${error.projection.name} failed on ${where}: ${error.message}`, { cause: error.cause });
  }
}

async function checkpointOf(db: SqlQueryable, schema: string, name: string): Promise<GlobalPosition | undefined> {
  const [row] = await db.query<{ position: string | null }>(
    `SELECT position FROM ${quoteSchema(schema)}.projection_checkpoints WHERE name = $1`,
    [name],
  );
  return row?.position ? parsePosition(row.position) : undefined;
}

/** Until the live checkpoint reaches `position`, the projection records an error, or time runs out. */
async function waitForCheckpoint(db: SqlQueryable, schema: string, name: string, position: GlobalPosition | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (position && Date.now() < deadline) {
    const [row] = await db.query<{ position: string | null; last_error: string | null }>(
      `SELECT position, last_error FROM ${quoteSchema(schema)}.projection_checkpoints WHERE name = $1`,
      [name],
    );
    // No checkpoint yet: no runner has applied anything that the switch could race with.
    if (!row?.position || row.last_error || comparePositions(parsePosition(row.position), position) >= 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `<schema>_<kind>_<stamp>`, shortened to PostgreSQL's 63-character identifiers. */
function sideSchema(schema: string, kind: string, stamp: string): string {
  const suffix = `_${kind}_${stamp}`;
  const name = `${schema.slice(0, 63 - suffix.length)}${suffix}`;
  quoteSchema(name);
  return name;
}
