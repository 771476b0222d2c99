/**
 * The event store port. Every adapter (in-memory, PostgreSQL on `pg` and PGlite,
 * EventStoreDB) is held to the one contract suite in `testing/event-store.contract.ts`.
 *
 * Stream revisions count from 0 (the first event of a stream has revision 0), as in
 * EventStoreDB. A global position orders all events of the store; it is a pair so that
 * each adapter can use what its engine offers (EventStoreDB's commit/prepare positions,
 * PostgreSQL's transaction id and sequence number).
 */

export interface EventMetadata {
  actorId: string;
  role: string;
  correlationId: string;
  causationId: string;
  /** ISO 8601 time the command was decided. */
  occurredAt: string;
  schemaVersion: number;
  [extra: string]: unknown;
}

export interface NewEvent {
  id: string;
  type: string;
  data: Record<string, unknown>;
  metadata: EventMetadata;
}

export interface GlobalPosition {
  commit: bigint;
  prepare: bigint;
}

export interface RecordedEvent extends NewEvent {
  streamId: string;
  revision: number;
  position: GlobalPosition;
  /** When the store recorded the event. */
  recordedAt: Date;
}

/** What the writer believes about the stream: an exact revision, or a weaker claim. */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | number;

export interface AppendResult {
  /** Revision of the last event appended. */
  revision: number;
  position: GlobalPosition;
}

export interface ReadStreamOptions {
  /** Read from this revision on, inclusive (from the first event if omitted). */
  fromRevision?: number;
  /** Read up to and including this revision. */
  toRevision?: number;
}

export interface ReadAllOptions {
  /** Exclusive: events strictly after this position. Omitted: from the start. */
  after?: GlobalPosition;
  limit: number;
  /** Only events of streams whose id starts with this; the store passes over the others. */
  streamPrefix?: string;
}

/**
 * `through`: the position the batch reaches, to resume after. It is the last event's, unless
 * events of other streams (see `streamPrefix`) were passed over after it; so with a prefix a
 * batch may hold no event at all, only a position that a checkpoint can move to.
 */
export type BatchHandler = (events: RecordedEvent[], through: GlobalPosition) => Promise<void>;

export interface SubscribeOptions {
  /** Exclusive start; omitted: from the very first event. */
  after?: GlobalPosition;
  /** Only events of streams whose id starts with this; filtered by the store, on its side where it can. */
  streamPrefix?: string;
  /** Called with each batch, in order; the next batch waits for the promise. */
  handler: BatchHandler;
  /** Called once if the handler or the store fails; the subscription has stopped. */
  onError: (error: unknown) => void;
  batchSize?: number;
}

export interface Subscription {
  /** Stops after the batch in hand; resolves once the handler has returned. */
  stop(): Promise<void>;
}

export interface EventStore {
  /**
   * Appends atomically, or throws WrongExpectedRevisionError and appends nothing. With no
   * events it only checks `expected` and returns where the stream stands: revision -1 if it
   * does not exist, and the position of its last event, or (0, 0).
   */
  append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult>;
  /** All events of the stream in revision order; an empty array if the stream does not exist. */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options: ReadAllOptions): Promise<RecordedEvent[]>;
  /** Catches up from `after`, then delivers new events as they are committed. */
  subscribeToAll(options: SubscribeOptions): Subscription;
  /** Position of the last committed event that readAll can return, or undefined when empty. */
  headPosition(): Promise<GlobalPosition | undefined>;
  /**
   * Position of the last committed event, which readAll may not return yet: on PostgreSQL an
   * event stays out of readAll while a transaction that began before it is still open, anywhere
   * on the server (readAll's high-water mark). What to wait for, to have seen everything
   * committed so far; elsewhere the same as headPosition.
   */
  lastCommittedPosition(): Promise<GlobalPosition | undefined>;
  /**
   * Optional: how many events readAll can return after `after` (all of them if omitted), for
   * projection lag and rebuild progress. Stores that cannot count cheaply leave it out.
   */
  countEvents?(after?: GlobalPosition): Promise<number>;
  close(): Promise<void>;
}

/** The stream did not stand where the writer expected; nothing was appended. */
export class WrongExpectedRevisionError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    readonly actual: number | 'no_stream',
  ) {
    super(`Stream ${streamId}: expected revision ${String(expected)}, but it is at ${String(actual)}`);
    this.name = 'WrongExpectedRevisionError';
  }
}

export function comparePositions(a: GlobalPosition, b: GlobalPosition): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

/** Positions travel as text (checkpoints, JSON): "commit/prepare". */
export function formatPosition(position: GlobalPosition): string {
  return `${position.commit}/${position.prepare}`;
}

export function parsePosition(text: string): GlobalPosition {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  if (!match) throw new Error(`Not a global position: "${text}"`);
  return { commit: BigInt(match[1]), prepare: BigInt(match[2]) };
}
