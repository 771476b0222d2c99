import { randomUUID } from 'node:crypto';
import { EventStore, NewEvent, RecordedEvent, WrongExpectedRevisionError } from '@kcflow/event-store/port';
import { hashEvent } from '../audit/hash-chain';
import { Clock, CommandContext } from './command-context';
import { ConcurrencyRetryExhaustedError, PreconditionFailedError } from './errors';
import { SnapshotStore } from '../snapshots/snapshot-store';
import { StreamHead, StreamLoader } from '../snapshots/stream-loader';
import { Aggregate, DomainEventShape, foldEvents } from './fold';
import { KeyedLock } from './keyed-lock';

export type { Aggregate, DomainEventShape, SnapshotPolicy } from './fold';
export { foldEvents };

export interface LoadedStream<State> {
  state: State;
  /** Revision of the last event read; undefined when the stream does not exist. */
  revision: number | undefined;
  events: RecordedEvent[];
}

export const SCHEMA_VERSION = 1;
const MAX_ATTEMPTS = 25;

export async function loadStream<State, Event extends DomainEventShape>(
  store: EventStore,
  aggregate: Aggregate<State, Event>,
  streamId: string,
  toRevision?: number,
): Promise<LoadedStream<State>> {
  const events = await store.readStream(streamId, toRevision === undefined ? undefined : { toRevision });
  return { state: foldEvents(aggregate, aggregate.initialState(), events), revision: events.at(-1)?.revision, events };
}

export interface CommandResult<State> {
  state: State;
  revision: number | undefined;
  appended: NewEvent[];
}

/**
 * Where a command may start instead of reading the stream: a head the caller has just `read`
 * (CommandLoop.load), or one it only `presumed` (a stream under an id it has just made up has
 * no events), which is treated like a held head (see CommandLoop.execute).
 */
export type Start<State> = { read: StreamHead<State> } | { presumed: StreamHead<State> };

/** The head of a stream that does not exist yet. */
export function newStream<State>(aggregate: Aggregate<State, never>): StreamHead<State> {
  return { state: aggregate.initialState(), revision: undefined };
}

/** An attempt made on a head that was not the stream's: decide again on the stream as read. */
const STALE = Symbol('stale');

/**
 * The whole write side in one loop (STYLE.md, after Emmett's handleCommand):
 * 1. read the stream and fold it into state (StreamLoader: from the start, or for long
 *    streams from a verified recent point);
 * 2. if the caller sent If-Match, the stream must still stand there (else 412);
 * 3. decide — pure, may refuse with a DomainError, may decide nothing;
 * 4. append with the revision read as the expected revision;
 * 5. if another writer got there first, start again (or 412 under If-Match).
 *
 * Step 1 is skipped when this process holds the stream's head already, from its last read or
 * append of it (a client walking an application through its lifecycle comes back to the same
 * stream). That head is only presumed current, as another process may have appended since.
 * The append's expected revision is what proves it: an append on it that succeeds was decided
 * on the stream's true head. Everything else decided on it — a refusal, a 412, nothing to
 * append, a lost append — is thrown away and decided again on the stream as read, so no
 * answer ever rests on a presumed head.
 */
export class CommandLoop {
  private readonly lock = new KeyedLock();
  private readonly loader: StreamLoader;

  constructor(
    private readonly store: EventStore,
    private readonly clock: Clock,
    snapshots?: SnapshotStore,
  ) {
    this.loader = new StreamLoader(store, snapshots);
  }

  /** The stream as the loop would read it: for a caller that needs the state first and then passes it to `execute`. */
  load<State, Event extends DomainEventShape>(aggregate: Aggregate<State, Event>, streamId: string): Promise<StreamHead<State>> {
    return this.loader.load(aggregate, streamId);
  }

  /**
   * The head this process last read or appended for the stream, not read now: presumed
   * current, not known to be. Fit for `execute(…, { presumed })`, whose append checks it, and
   * for what a stream never changes once written.
   */
  held<State, Event extends DomainEventShape>(_aggregate: Aggregate<State, Event>, streamId: string): StreamHead<State> | undefined {
    return this.loader.held<State>(streamId);
  }

  /**
   * `start`, when given, is used for the first attempt instead of reading the stream: the
   * append still expects its revision, so a stream that has moved on since is re-read.
   */
  execute<State, Event extends DomainEventShape>(
    aggregate: Aggregate<State, Event>,
    streamId: string,
    context: CommandContext,
    decide: (state: State) => Event[],
    start?: Start<State>,
  ): Promise<CommandResult<State>> {
    return this.lock.run(streamId, async () => {
      // 1. A head at hand: one the caller has just read (unless this process has appended
      //    since), else one presumed current.
      const read = start && 'read' in start && this.loader.isLatestSeen(streamId, start.read) ? start.read : undefined;
      const presumed = read ? undefined : start && 'presumed' in start ? start.presumed : this.loader.held<State>(streamId);
      if (presumed) {
        const result = await this.attempt(aggregate, streamId, context, decide, presumed, true);
        // Not the stream's head: read it (for long streams, from the held head on, see StreamLoader).
        if (result !== STALE) return result;
      } else if (read) {
        const result = await this.attempt(aggregate, streamId, context, decide, read, false);
        if (result !== STALE) return result;
        await pause(1);
      }
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        const result = await this.attempt(aggregate, streamId, context, decide, await this.loader.load(aggregate, streamId), false);
        if (result !== STALE) return result;
        await pause(attempt);
      }
      throw new ConcurrencyRetryExhaustedError(streamId, MAX_ATTEMPTS);
    });
  }

  /**
   * Steps 2–4 on `head`. STALE when the append found the stream moved on, and, for a
   * `presumed` head, whenever the outcome is anything but a successful append.
   */
  private async attempt<State, Event extends DomainEventShape>(
    aggregate: Aggregate<State, Event>,
    streamId: string,
    context: CommandContext,
    decide: (state: State) => Event[],
    head: StreamHead<State>,
    presumed: boolean,
  ): Promise<CommandResult<State> | typeof STALE> {
    const { state, revision } = head;
    if (context.expectedRevision !== undefined && context.expectedRevision !== revision) {
      if (presumed) return STALE;
      throw new PreconditionFailedError(context.expectedRevision, revision);
    }
    let decided: Event[];
    try {
      decided = decide(state);
    } catch (error) {
      if (presumed) return STALE;
      throw error;
    }
    if (decided.length === 0) return presumed ? STALE : { state, revision, appended: [] };
    const toAppend = this.stamp(decided, context, head.lastHash ?? '');
    let appendedAt: number;
    try {
      appendedAt = (await this.store.append(streamId, toAppend, revision ?? 'no_stream')).revision;
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
      if (context.expectedRevision !== undefined && !presumed) {
        throw new PreconditionFailedError(context.expectedRevision, typeof error.actual === 'number' ? error.actual : undefined);
      }
      return STALE;
    }
    const next = foldEvents(aggregate, state, decided);
    const last = toAppend[toAppend.length - 1];
    // Written: whatever happens to the snapshot of it, the command has succeeded.
    await this.loader
      .appended(aggregate, streamId, head, { state: next, revision: appendedAt, lastEventId: last.id, lastHash: last.metadata.hash as string })
      .catch(() => undefined);
    return { state: next, revision: appendedAt, appended: toAppend };
  }

  /** Wraps decided events with their metadata and links each into the stream's hash chain. */
  private stamp(decided: DomainEventShape[], context: CommandContext, previousHash: string): NewEvent[] {
    const occurredAt = this.clock.now().toISOString();
    let prevHash = previousHash;
    return decided.map((event) => {
      const metadata = {
        actorId: context.actorId,
        role: context.role,
        ...(context.actorName ? { actorName: context.actorName } : {}),
        correlationId: context.correlationId,
        causationId: context.causationId,
        occurredAt,
        schemaVersion: SCHEMA_VERSION,
        prevHash,
      };
      const unsealed = { id: randomUUID(), type: event.type, data: event.data as Record<string, unknown>, metadata };
      const hash = hashEvent(unsealed);
      prevHash = hash;
      return { ...unsealed, metadata: { ...metadata, hash } };
    });
  }
}

/** Jittered back-off so losers of a race do not collide again in lock-step. */
function pause(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(50, 2 * attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
