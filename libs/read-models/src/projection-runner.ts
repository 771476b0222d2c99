import { EventStore, GlobalPosition, RecordedEvent, Subscription, comparePositions, formatPosition, parsePosition } from '@kcflow/event-store';
import { SqlDatabase, SqlQueryable, quoteSchema } from '@kcflow/sql';
import { Projection } from './projection';

/** pino-compatible: `logger.info({ projection }, 'message')`. */
export interface ProjectionLogger {
  info(context: object, message: string): void;
  warn(context: object, message: string): void;
  error(context: object, message: string): void;
}

const silent: ProjectionLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export interface ProjectionRunnerOptions {
  store: EventStore;
  /** The read-model database: the store's own database or another. */
  db: SqlDatabase;
  schema: string;
  projections: readonly Projection[];
  logger?: ProjectionLogger;
  batchSize?: number;
}

export interface ProjectionStatus {
  name: string;
  /** Global position of the last event applied ("commit/prepare"), null before the first batch. */
  position: string | null;
  eventsApplied: number;
  lastError: string | null;
  lastErrorEventId: string | null;
  updatedAt: Date | null;
  running: boolean;
}

interface CheckpointRow {
  name: string;
  position: string | null;
  events_applied: string;
  updated_at: Date;
  last_error: string | null;
  last_error_event_id: string | null;
}

/** A handler failed on this event; the batch's transaction has rolled back. */
class ProjectionEventError extends Error {
  constructor(
    readonly event: RecordedEvent,
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
}

/**
 * Runs projections from the event store into read-model tables. Each projection has its own
 * subscription and its own checkpoint row in `<schema>.projection_checkpoints`, written in the
 * transaction that writes the batch's rows, so they can never disagree. A handler that throws
 * stops only its projection: the batch rolls back, the error and the event's id are recorded in
 * its checkpoint row, and the others go on. start() again retries from the checkpoint.
 */
export class ProjectionRunner {
  private readonly store: EventStore;
  private readonly db: SqlDatabase;
  private readonly schema: string;
  private readonly logger: ProjectionLogger;
  private readonly batchSize: number | undefined;
  private readonly running: Running[];

  constructor(options: ProjectionRunnerOptions) {
    this.store = options.store;
    this.db = options.db;
    this.schema = options.schema;
    this.logger = options.logger ?? silent;
    this.batchSize = options.batchSize;
    this.running = options.projections.map((projection) => ({ projection }));
    quoteSchema(this.schema);
  }

  private get checkpoints(): string {
    return `${quoteSchema(this.schema)}.projection_checkpoints`;
  }

  /** Creates the schema, the checkpoint table and every projection's tables if missing. */
  async migrate(): Promise<void> {
    await this.db.query(`CREATE SCHEMA IF NOT EXISTS ${quoteSchema(this.schema)}`);
    await this.db.query(
      `CREATE TABLE IF NOT EXISTS ${this.checkpoints} (
         name text PRIMARY KEY,
         position text,
         events_applied bigint NOT NULL DEFAULT 0,
         updated_at timestamptz NOT NULL DEFAULT now(),
         last_error text,
         last_error_event_id text
       )`,
    );
    for (const { projection } of this.running) await projection.migrate(this.db, this.schema);
  }

  /** Migrates, then subscribes every projection that is not running from its checkpoint. */
  async start(): Promise<void> {
    await this.migrate();
    for (const entry of this.running) {
      if (entry.subscription) continue;
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
  }

  /** Stops every projection after the batch in hand. */
  async stop(): Promise<void> {
    await Promise.all(
      this.running.map(async (entry) => {
        const subscription = entry.subscription;
        entry.subscription = undefined;
        await subscription?.stop();
        await entry.recording;
        if (subscription) this.logger.info({ projection: entry.projection.name }, 'Projection stopped');
      }),
    );
  }

  async status(): Promise<ProjectionStatus[]> {
    await Promise.all(this.running.map((entry) => entry.recording));
    const rows = await this.db.query<CheckpointRow>(`SELECT * FROM ${this.checkpoints}`);
    return this.running.map(({ projection, subscription }) => {
      const row = rows.find((r) => r.name === projection.name);
      return {
        name: projection.name,
        position: row?.position ?? null,
        eventsApplied: Number(row?.events_applied ?? 0),
        lastError: row?.last_error ?? null,
        lastErrorEventId: row?.last_error_event_id ?? null,
        updatedAt: row?.updated_at ?? null,
        running: subscription !== undefined,
      };
    });
  }

  /**
   * Resolves once every running projection has applied all events in the store when this is
   * called; rejects after `timeoutMs`, naming the projections still behind.
   */
  async waitUntilCaughtUp(timeoutMs = 10_000): Promise<void> {
    const head = await this.store.headPosition();
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
    await this.db.transaction(async (tx) => {
      for (const event of events) {
        try {
          await projection.handle(tx, event, this.schema);
        } catch (error) {
          throw new ProjectionEventError(event, error);
        }
      }
      await this.saveCheckpoint(tx, projection.name, last, events.length);
    });
    entry.position = last;
  }

  /** A successful batch also clears an error left by an earlier failed run. */
  private async saveCheckpoint(tx: SqlQueryable, name: string, position: GlobalPosition, count: number): Promise<void> {
    await tx.query(
      `INSERT INTO ${this.checkpoints} AS c (name, position, events_applied, updated_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (name) DO UPDATE SET position = excluded.position, events_applied = c.events_applied + excluded.events_applied,
         updated_at = now(), last_error = NULL, last_error_event_id = NULL`,
      [name, formatPosition(position), count],
    );
  }

  private failed(entry: Running, error: unknown): void {
    entry.subscription = undefined;
    const name = entry.projection.name;
    const event = error instanceof ProjectionEventError ? error.event : undefined;
    const cause = error instanceof ProjectionEventError ? error.cause : error;
    const message = cause instanceof Error ? cause.message : String(cause);
    this.logger.error(
      { projection: name, eventId: event?.id, eventType: event?.type, streamId: event?.streamId, revision: event?.revision, err: cause },
      'Projection stopped on an error; fix it and restart the projection',
    );
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
}
