import { EventStore, GlobalPosition, RecordedEvent, Subscription, comparePositions, formatPosition, parsePosition } from '@kcflow/event-store';
import { SqlDatabase, SqlQueryable, quoteSchema } from '@kcflow/sql';
import { Projection, failingEvent, handleBatch, migrateProjection } from './projection';
import { lockProjection } from './rebuild';

/** pino-compatible: `logger.info({ projection }, 'message')`. */
export interface ProjectionLogger {
  info(context: object, message: string): void;
  warn(context: object, message: string): void;
  error(context: object, message: string): void;
}

const silent: ProjectionLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The right to run one projection, held by at most one process at a time. */
export interface ProjectionLease {
  /** Resolves if the lease is lost (its connection broke): the holder must stop applying. */
  readonly lost: Promise<void>;
  release(): Promise<void>;
}

/**
 * Hands out leases, so that several processes can run the same runner and each projection
 * runs in one of them; the others try again every `pollIntervalMs` and take over when the
 * holder dies. Without leases a runner assumes it is alone (PGlite, tests).
 */
export interface ProjectionLeases {
  readonly pollIntervalMs: number;
  tryAcquire(name: string): Promise<ProjectionLease | undefined>;
  /** The holder of each named lease that is held, whichever process holds it. */
  holders(names: readonly string[]): Promise<Map<string, string>>;
}

export interface ProjectionRunnerOptions {
  store: EventStore;
  /** The read-model database: the store's own database or another. */
  db: SqlDatabase;
  schema: string;
  projections: readonly Projection[];
  logger?: ProjectionLogger;
  batchSize?: number;
  /** First wait before a failed projection retries from its checkpoint (default 5 s). */
  retryDelayMs?: number;
  leases?: ProjectionLeases;
}

export interface ProjectionStatus {
  name: string;
  /** Global position of the last event applied ("commit/prepare"), null before the first batch. */
  position: string | null;
  eventsApplied: number;
  lastError: string | null;
  lastErrorEventId: string | null;
  updatedAt: Date | null;
  /** Applying events in this process or, with leases, in whichever process holds the lease. */
  running: boolean;
  /** With leases: the process holding this projection's lease, null if none does. */
  heldBy?: string | null;
}

interface CheckpointRow {
  name: string;
  position: string | null;
  events_applied: string;
  updated_at: Date;
  last_error: string | null;
  last_error_event_id: string | null;
}

/**
 * The checkpoint is not where this runner left it: another runner (a lease lost and taken
 * over) or a rebuild has moved it. The batch rolls back; the runner resumes from the checkpoint.
 */
class CheckpointMovedError extends Error {
  constructor(name: string) {
    super(`Projection ${name}: the checkpoint was moved by another runner or a rebuild; resuming from it`);
  }
}

/** The batch failed, on this event if one fails alone; its transaction has rolled back. */
class ProjectionEventError extends Error {
  constructor(
    readonly event: RecordedEvent | undefined,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

interface Running {
  projection: Projection;
  subscription?: Subscription;
  /** Where the committed checkpoint stands, as far as this runner knows. */
  position?: GlobalPosition;
  /** Set while a failure is being recorded, so status() and stop() can wait for it. */
  recording?: Promise<void>;
  /** With leases: the lease held, and the loop that acquires, keeps and releases it. */
  lease?: ProjectionLease;
  keeper?: Promise<void>;
  /** Set while resubscribing from a checkpoint found moved. */
  restarting?: Promise<void>;
  /** Failures in a row, and the timer of the next retry after one. */
  failures: number;
  retry?: NodeJS.Timeout;
}

/**
 * Runs projections from the event store into read-model tables. Each projection has its own
 * subscription and its own checkpoint row in `<schema>.projection_checkpoints`, written in the
 * transaction that writes the batch's rows, so they can never disagree. A handler that throws
 * stops only its projection: the batch rolls back, the error and the event's id are recorded in
 * its checkpoint row, and the others go on. start() again retries from the checkpoint.
 *
 * With `leases`, several processes may run the same projections: each projection runs only
 * where its lease is held. The checkpoint row doubles as a fencing token: a batch commits
 * only if the checkpoint still stands where this runner last left it, so a holder that lost
 * its lease mid-batch cannot overwrite its successor's progress.
 */
export class ProjectionRunner {
  private readonly store: EventStore;
  private readonly db: SqlDatabase;
  private readonly schema: string;
  private readonly logger: ProjectionLogger;
  private readonly batchSize: number | undefined;
  private readonly running: Running[];
  private readonly leases: ProjectionLeases | undefined;
  /** With leases: resolves when stop() is called, ending the keeper loops. */
  private stopping: { promise: Promise<void>; fire: () => void } | undefined;
  /** Between start() and stop(): a projection whose checkpoint moved resubscribes. */
  private active = false;
  /** First wait before a failed projection tries again; doubles per failure, up to 5 minutes. */
  private readonly retryDelayMs: number;

  constructor(options: ProjectionRunnerOptions) {
    this.store = options.store;
    this.db = options.db;
    this.schema = options.schema;
    this.logger = options.logger ?? silent;
    this.batchSize = options.batchSize;
    this.running = options.projections.map((projection) => ({ projection, failures: 0 }));
    this.retryDelayMs = options.retryDelayMs ?? 5_000;
    this.leases = options.leases;
    quoteSchema(this.schema);
  }

  private get checkpoints(): string {
    return `${quoteSchema(this.schema)}.projection_checkpoints`;
  }

  /**
   * Creates the schema, the checkpoint table and every projection's tables if missing.
   * Processes starting together would race on CREATE … IF NOT EXISTS: one at a time.
   */
  async migrate(): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`kcflow-read-models:${this.schema}`]);
      await tx.query(`CREATE SCHEMA IF NOT EXISTS ${quoteSchema(this.schema)}`);
      await tx.query(
        `CREATE TABLE IF NOT EXISTS ${this.checkpoints} (
           name text PRIMARY KEY,
           position text,
           events_applied bigint NOT NULL DEFAULT 0,
           updated_at timestamptz NOT NULL DEFAULT now(),
           last_error text,
           last_error_event_id text
         )`,
      );
      for (const { projection } of this.running) await migrateProjection(tx, this.schema, projection);
    });
  }

  /**
   * Migrates, then subscribes every projection that is not running from its checkpoint. With
   * leases: only those whose lease it gets now; the others are tried again in the background.
   */
  async start(): Promise<void> {
    await this.migrate();
    this.active = true;
    if (!this.leases) {
      for (const entry of this.running) await this.subscribe(entry);
      return;
    }
    const stopping = (this.stopping ??= signal());
    const attempts = this.running.map((entry) => {
      if (entry.keeper) return entry.lease ? this.subscribe(entry) : undefined; // retries a failed projection
      return new Promise<void>((attempted) => (entry.keeper = this.keep(entry, stopping.promise, attempted)));
    });
    await Promise.all(attempts);
  }

  private async subscribe(entry: Running): Promise<void> {
    if (entry.subscription) return;
    await entry.recording;
    const name = entry.projection.name;
    const [row] = await this.db.query<CheckpointRow>(`SELECT position FROM ${this.checkpoints} WHERE name = $1`, [name]);
    entry.position = row?.position ? parsePosition(row.position) : undefined;
    this.logger.info({ projection: name, position: row?.position ?? null }, 'Projection starting');
    entry.subscription = this.store.subscribeToAll({
      after: entry.position,
      batchSize: this.batchSize,
      handler: (events) => this.applyBatch(entry, events),
      onError: (error) => this.failed(entry, error),
    });
  }

  /**
   * One projection under a lease: try to take it, run while it is held, stop when it is lost,
   * when the checkpoint shows another runner took over, or on stop(); then try again.
   */
  private async keep(entry: Running, stopping: Promise<void>, attempted: () => void): Promise<void> {
    const leases = this.leases!;
    const name = entry.projection.name;
    let stopped = false;
    void stopping.then(() => (stopped = true));
    while (!stopped) {
      let lease: ProjectionLease | undefined;
      try {
        lease = await leases.tryAcquire(name);
        if (lease && !stopped) {
          entry.lease = lease;
          this.logger.info({ projection: name }, 'Projection lease acquired');
          await this.subscribe(entry);
          attempted();
          const outcome = await Promise.race([lease.lost.then(() => 'lost' as const), stopping.then(() => 'stopping' as const)]);
          if (outcome === 'lost') this.logger.warn({ projection: name }, 'Projection lease lost; stopping it here, will try to take it again');
        }
      } catch (error) {
        this.logger.warn({ projection: name, err: error }, 'Projection lease attempt failed; will try again');
      } finally {
        attempted();
        entry.lease = undefined; // first: a batch finishing now must not resubscribe
        await this.unsubscribe(entry);
        await lease?.release();
      }
      await Promise.race([stopping, new Promise((resolve) => setTimeout(resolve, leases.pollIntervalMs).unref())]);
    }
    entry.keeper = undefined;
  }

  private async unsubscribe(entry: Running): Promise<void> {
    clearTimeout(entry.retry);
    await entry.restarting;
    const subscription = entry.subscription;
    entry.subscription = undefined;
    await subscription?.stop();
    await entry.recording;
    if (subscription) this.logger.info({ projection: entry.projection.name }, 'Projection stopped');
  }

  /** Stops every projection after the batch in hand, and releases its lease. */
  async stop(): Promise<void> {
    this.active = false;
    this.stopping?.fire();
    this.stopping = undefined;
    await Promise.all(this.running.map(async (entry) => (entry.keeper ? entry.keeper : this.unsubscribe(entry))));
  }

  async status(): Promise<ProjectionStatus[]> {
    await Promise.all(this.running.map((entry) => entry.recording));
    const rows = await this.db.query<CheckpointRow>(`SELECT * FROM ${this.checkpoints}`);
    const holders = await this.leases?.holders(this.running.map((entry) => entry.projection.name));
    return this.running.map(({ projection, subscription, lease }) => {
      const row = rows.find((r) => r.name === projection.name);
      const lock = holders && { heldBy: holders.get(projection.name) ?? null };
      // Held elsewhere: that process runs it unless it recorded a failure.
      const running = subscription !== undefined || (!lease && !!lock?.heldBy && !row?.last_error);
      return {
        name: projection.name,
        position: row?.position ?? null,
        eventsApplied: Number(row?.events_applied ?? 0),
        lastError: row?.last_error ?? null,
        lastErrorEventId: row?.last_error_event_id ?? null,
        updatedAt: row?.updated_at ?? null,
        running,
        ...lock,
      };
    });
  }

  /**
   * Resolves once every running projection has applied all events committed when this is
   * called; rejects after `timeoutMs`, naming the projections still behind. Committed, not
   * merely readable: on PostgreSQL a long transaction anywhere on the server holds readAll's
   * head back, and waiting for that head would return before the caller's own events are in.
   */
  async waitUntilCaughtUp(timeoutMs = 10_000): Promise<void> {
    const head = await this.store.lastCommittedPosition();
    if (!head) return;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lagging = this.running.filter(({ subscription, position }) => subscription && (!position || comparePositions(position, head) < 0));
      if (lagging.length === 0) return;
      if (Date.now() >= deadline) {
        const which = lagging.map(({ projection, position }) => `${projection.name} at ${position ? formatPosition(position) : 'start'}`);
        throw new Error(`Projections not caught up with ${formatPosition(head)} after ${timeoutMs} ms: ${which.join(', ')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private async applyBatch(entry: Running, events: RecordedEvent[]): Promise<void> {
    const { projection } = entry;
    const last = events[events.length - 1].position;
    const from = entry.position;
    try {
      await this.db.transaction(async (tx) => {
        // Waits while a rebuild switches this projection's tables over (rebuild.ts).
        await lockProjection(tx, this.schema, projection.name);
        await handleBatch(tx, projection, events, this.schema);
        await this.saveCheckpoint(tx, projection.name, from, last, events.length);
      });
    } catch (error) {
      if (error instanceof CheckpointMovedError) throw error;
      throw new ProjectionEventError(await failingEvent(this.db, projection, this.schema, events), error);
    }
    entry.position = last;
    entry.failures = 0;
  }

  /**
   * Moves the checkpoint from `from` to `position`, only if it still stands at `from`.
   * A successful batch also clears an error left by an earlier failed run.
   */
  private async saveCheckpoint(tx: SqlQueryable, name: string, from: GlobalPosition | undefined, position: GlobalPosition, count: number): Promise<void> {
    const saved = await tx.query(
      `INSERT INTO ${this.checkpoints} AS c (name, position, events_applied, updated_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (name) DO UPDATE SET position = excluded.position, events_applied = c.events_applied + excluded.events_applied,
         updated_at = now(), last_error = NULL, last_error_event_id = NULL
       WHERE c.position IS NOT DISTINCT FROM $4
       RETURNING 1`,
      [name, formatPosition(position), count, from ? formatPosition(from) : null],
    );
    if (saved.length === 0) throw new CheckpointMovedError(name);
  }

  private failed(entry: Running, error: unknown): void {
    entry.subscription = undefined;
    const name = entry.projection.name;
    if (error instanceof CheckpointMovedError) {
      // Not the projection's failure: nothing to record over the checkpoint that moved.
      this.logger.warn({ projection: name }, error.message);
      if (this.active && (!this.leases || entry.lease)) {
        entry.restarting = this.subscribe(entry).catch((restartError: unknown) => this.failed(entry, restartError));
      }
      return;
    }
    const event = error instanceof ProjectionEventError ? error.event : undefined;
    const cause = error instanceof ProjectionEventError ? error.cause : error;
    const message = cause instanceof Error ? cause.message : String(cause);
    this.logger.error(
      { projection: name, eventId: event?.id, eventType: event?.type, streamId: event?.streamId, revision: event?.revision, err: cause },
      'Projection stopped on an error; it retries from its checkpoint with a growing delay',
    );
    this.retryLater(entry);
    entry.recording = this.db
      .query(
        `INSERT INTO ${this.checkpoints} AS c (name, updated_at, last_error, last_error_event_id) VALUES ($1, now(), $2, $3)
         ON CONFLICT (name) DO UPDATE SET updated_at = now(), last_error = excluded.last_error, last_error_event_id = excluded.last_error_event_id`,
        [name, message, event?.id ?? null],
      )
      .then(
        () => undefined,
        (recordError: unknown) => this.logger.error({ projection: name, err: recordError }, 'Could not record the projection error'),
      );
  }

  /**
   * A failure may pass (the database restarted) or not (a poison event): either way the
   * projection tries again from its checkpoint, waiting longer each time, and its error stays
   * on /projections until a batch succeeds.
   */
  private retryLater(entry: Running): void {
    if (!this.active || (this.leases && !entry.lease)) return;
    entry.failures += 1;
    const delay = Math.min(this.retryDelayMs * 2 ** (entry.failures - 1), 300_000);
    clearTimeout(entry.retry);
    entry.retry = setTimeout(() => {
      if (!this.active) return;
      entry.restarting = this.subscribe(entry).catch((error: unknown) => this.failed(entry, error));
    }, delay);
    entry.retry.unref();
  }
}

function signal(): { promise: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const promise = new Promise<void>((resolve) => (fire = resolve));
  return { promise, fire };
}
