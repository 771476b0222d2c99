/**
 * The pure half of the EventStoreDB adapter: how our events, revisions, positions and
 * errors translate to and from `@eventstore/db-client` 6.x. Nothing here talks to a server.
 */
import {
  ANY,
  ErrorType,
  NO_STREAM,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError,
  jsonEvent,
  type AppendExpectedRevision,
  type CurrentRevision,
  type EventData,
  type Position,
} from '@eventstore/db-client';
import {
  WrongExpectedRevisionError,
  type EventMetadata,
  type ExpectedRevision,
  type GlobalPosition,
  type NewEvent,
  type RecordedEvent,
} from '../event-store.port';

/** The fields of a client `RecordedEvent` the adapter reads (a structural subset of it). */
export interface EsdbRecord {
  streamId: string;
  id: string;
  revision: bigint;
  type: string;
  isJson: boolean;
  data: unknown;
  metadata: unknown;
  created: Date;
  /** Always set on $all reads; on stream reads only from server 22.6 on (before: max uint64). */
  position?: Position;
}

/** An event in the store that this adapter cannot turn into a `RecordedEvent`. */
export class UnreadableEventError extends Error {
  readonly code = 'unreadable_event';

  constructor(record: Pick<EsdbRecord, 'streamId' | 'revision' | 'id'>, reason: string) {
    super(`Event ${record.id} (${record.streamId}@${record.revision}): ${reason}`);
    this.name = 'UnreadableEventError';
  }
}

export function toEsdbEvent(event: NewEvent): EventData {
  return jsonEvent({ id: event.id, type: event.type, data: event.data, metadata: event.metadata });
}

export function toRecordedEvent(record: EsdbRecord): RecordedEvent {
  if (!record.isJson) throw new UnreadableEventError(record, 'not a JSON event');
  if (!isPlainObject(record.data)) throw new UnreadableEventError(record, 'data is not a JSON object');
  const metadata = parseMetadata(record.metadata);
  if (!metadata) throw new UnreadableEventError(record, 'metadata is missing or not a JSON object');
  if (!record.position || !hasLogPosition(record.position)) {
    throw new UnreadableEventError(record, 'no position; stream reads return positions from EventStoreDB 22.6 on');
  }
  return {
    id: record.id,
    type: record.type,
    data: record.data,
    metadata,
    streamId: record.streamId,
    revision: fromEsdbRevision(record.revision),
    position: fromEsdbPosition(record.position),
    recordedAt: record.created,
  };
}

/**
 * Same rule as the client's `excludeSystemEvents()` filter (event type starting with `$`),
 * plus system streams, so `readAll`, `headPosition` and `subscribeToAll` see one set.
 */
export function isSystemRecord(record: Pick<EsdbRecord, 'type' | 'streamId'>): boolean {
  return record.type.startsWith('$') || record.streamId.startsWith('$');
}

export function toEsdbExpectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  switch (expected) {
    case 'any':
      return ANY;
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    default:
      if (!Number.isSafeInteger(expected) || expected < 0) {
        throw new RangeError(`Expected revision must be a whole number from 0, got ${expected}`);
      }
      return BigInt(expected);
  }
}

export function fromEsdbRevision(revision: bigint): number {
  if (revision < 0n || revision > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`Stream revision ${revision} does not fit a JavaScript number`);
  }
  return Number(revision);
}

export function fromEsdbCurrentRevision(current: CurrentRevision): number | 'no_stream' {
  return current === NO_STREAM ? 'no_stream' : fromEsdbRevision(current);
}

export function toEsdbPosition(position: GlobalPosition): Position {
  return { commit: position.commit, prepare: position.prepare };
}

export function fromEsdbPosition(position: Position): GlobalPosition {
  return { commit: position.commit, prepare: position.prepare };
}

/** A failed append as the port reports it; anything but a version conflict passes through. */
export function mapAppendError(error: unknown, streamId: string, expected: ExpectedRevision): unknown {
  if (error instanceof WrongExpectedVersionError || hasErrorType(error, ErrorType.WRONG_EXPECTED_VERSION)) {
    const { actualVersion } = error as WrongExpectedVersionError;
    return new WrongExpectedRevisionError(streamId, expected, fromEsdbCurrentRevision(actualVersion));
  }
  return error;
}

/**
 * With `throwOnAppendFailure=false` in the connection string the client resolves a
 * conflict instead of throwing; it then reports the current revision, -1 for no stream.
 */
export function failedAppendError(
  streamId: string,
  expected: ExpectedRevision,
  nextExpectedRevision: bigint,
): WrongExpectedRevisionError {
  const actual = nextExpectedRevision < 0n ? 'no_stream' : fromEsdbRevision(nextExpectedRevision);
  return new WrongExpectedRevisionError(streamId, expected, actual);
}

export function isStreamNotFound(error: unknown): boolean {
  return error instanceof StreamNotFoundError || hasErrorType(error, ErrorType.STREAM_NOT_FOUND);
}

export type ConnectionDefaults = Partial<Record<'defaultDeadline' | 'keepAliveInterval' | 'keepAliveTimeout', number>>;

/**
 * Adds each default as a query parameter unless the connection string already sets it
 * (keys compared as the client does: case, `-` and `_` ignored). The string stays the one
 * place where an operator reads and overrides deadlines and keep-alive.
 */
export function withConnectionDefaults(connectionString: string, defaults: ConnectionDefaults): string {
  const trimmed = connectionString.trim();
  const queryStart = trimmed.indexOf('?');
  const present = new Set(
    queryStart < 0
      ? []
      : trimmed
          .slice(queryStart + 1)
          .split('&')
          .map((pair) => flatKey(pair.split('=')[0])),
  );
  const missing = Object.entries(defaults).filter(
    ([key, value]) => value !== undefined && !present.has(flatKey(key)),
  );
  if (missing.length === 0) return trimmed;
  const added = missing.map(([key, value]) => `${key}=${value}`).join('&');
  if (queryStart < 0) return `${trimmed.replace(/\/+$/, '')}?${added}`;
  return trimmed.endsWith('?') || trimmed.endsWith('&') ? `${trimmed}${added}` : `${trimmed}&${added}`;
}

/** Servers before 22.6 fill stream reads' positions with the largest uint64: no position. */
const NO_LOG_POSITION = 2n ** 64n - 1n;

function hasLogPosition(position: Position): boolean {
  return position.commit !== NO_LOG_POSITION && position.prepare !== NO_LOG_POSITION;
}

function flatKey(key: string): string {
  return key.trim().toLowerCase().replace(/[_-]/g, '');
}

function parseMetadata(metadata: unknown): EventMetadata | undefined {
  // The client parses JSON metadata itself and hands back raw bytes when it cannot.
  if (metadata instanceof Uint8Array) {
    try {
      return parseMetadata(JSON.parse(Buffer.from(metadata).toString('utf8')));
    } catch {
      return undefined;
    }
  }
  return isPlainObject(metadata) ? (metadata as EventMetadata) : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function hasErrorType(error: unknown, type: ErrorType): boolean {
  return typeof error === 'object' && error !== null && (error as { type?: unknown }).type === type;
}
