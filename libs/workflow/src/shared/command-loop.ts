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
 * The whole write side in one loop (STYLE.md, after Emmett's handleCommand):
 * 1. read the stream and fold it into state (StreamLoader: from the start, or for long
 *    streams from a verified recent point);
 * 2. if the caller sent If-Match, the stream must still stand there (else 412);
 * 3. decide — pure, may refuse with a DomainError, may decide nothing;
 * 4. append with the revision read as the expected revision;
 * 5. if another writer got there first, start again (or 412 under If-Match).
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
   * `loaded`, when given, is used for the first attempt instead of reading the stream again:
   * the append still expects its revision, so a stream that has moved on since is re-read.
   */
  execute<State, Event extends DomainEventShape>(
    aggregate: Aggregate<State, Event>,
    streamId: string,
    context: CommandContext,
    decide: (state: State) => Event[],
    loaded?: StreamHead<State>,
  ): Promise<CommandResult<State>> {
    return this.lock.run(streamId, async () => {
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        const head = attempt === 1 && loaded && this.loader.isLatestSeen(streamId, loaded) ? loaded : await this.loader.load(aggregate, streamId);
        const { state, revision } = head;
        if (context.expectedRevision !== undefined && context.expectedRevision !== revision) {
          throw new PreconditionFailedError(context.expectedRevision, revision);
        }
        const decided = decide(state);
        if (decided.length === 0) return { state, revision, appended: [] };
        const toAppend = this.stamp(decided, context, head.lastHash ?? '');
        let appendedAt: number;
        try {
          appendedAt = (await this.store.append(streamId, toAppend, revision ?? 'no_stream')).revision;
        } catch (error) {
          if (!(error instanceof WrongExpectedRevisionError)) throw error;
          if (context.expectedRevision !== undefined) {
            throw new PreconditionFailedError(context.expectedRevision, typeof error.actual === 'number' ? error.actual : undefined);
          }
          await pause(attempt);
          continue;
        }
        const next = foldEvents(aggregate, state, decided);
        const last = toAppend[toAppend.length - 1];
        // Written: whatever happens to the snapshot of it, the command has succeeded.
        await this.loader
          .appended(aggregate, streamId, head, { state: next, revision: appendedAt, lastEventId: last.id, lastHash: last.metadata.hash as string })
          .catch(() => undefined);
        return { state: next, revision: appendedAt, appended: toAppend };
      }
      throw new ConcurrencyRetryExhaustedError(streamId, MAX_ATTEMPTS);
    });
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
