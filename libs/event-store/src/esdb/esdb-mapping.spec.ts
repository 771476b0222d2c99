import { StreamNotFoundError, UnknownError, WrongExpectedVersionError } from '@eventstore/db-client';
import { WrongExpectedRevisionError, type NewEvent } from '../event-store.port';
import {
  UnreadableEventError,
  failedAppendError,
  fromEsdbCurrentRevision,
  fromEsdbPosition,
  fromEsdbRevision,
  isStreamNotFound,
  isSystemRecord,
  mapAppendError,
  toEsdbEvent,
  toEsdbExpectedRevision,
  toEsdbPosition,
  toRecordedEvent,
  withConnectionDefaults,
  type EsdbRecord,
} from './esdb-mapping';

const metadata = {
  actorId: 'officer-7',
  role: 'reviewer',
  correlationId: 'c0a8e1d2-0000-4000-8000-000000000001',
  causationId: 'c0a8e1d2-0000-4000-8000-000000000002',
  occurredAt: '2024-03-05T08:00:00.000Z',
  schemaVersion: 1,
};

const newEvent: NewEvent = {
  id: '6f1c3b1e-7d2a-4c59-9d3e-2f0b8a1c4d5e',
  type: 'ApplicationReviewed',
  data: { applicationId: 'a-1', score: 82, recommendedAmount: 150_000_000 },
  metadata,
};

function record(overrides: Partial<EsdbRecord> = {}): EsdbRecord {
  return {
    streamId: 'application-a-1',
    id: newEvent.id,
    revision: 3n,
    type: 'ApplicationReviewed',
    isJson: true,
    data: { applicationId: 'a-1', score: 82, recommendedAmount: 150_000_000 },
    metadata,
    created: new Date('2024-03-05T08:00:01.234Z'),
    position: { commit: 5120n, prepare: 5056n },
    ...overrides,
  };
}

describe('toEsdbEvent', () => {
  it('keeps our event id and puts our metadata object in the JSON metadata', () => {
    expect(toEsdbEvent(newEvent)).toEqual({
      id: '6f1c3b1e-7d2a-4c59-9d3e-2f0b8a1c4d5e',
      contentType: 'application/json',
      type: 'ApplicationReviewed',
      data: { applicationId: 'a-1', score: 82, recommendedAmount: 150_000_000 },
      metadata,
    });
  });
});

describe('toRecordedEvent', () => {
  it('maps a stored JSON event, with recordedAt from created', () => {
    expect(toRecordedEvent(record())).toEqual({
      id: '6f1c3b1e-7d2a-4c59-9d3e-2f0b8a1c4d5e',
      type: 'ApplicationReviewed',
      data: { applicationId: 'a-1', score: 82, recommendedAmount: 150_000_000 },
      metadata,
      streamId: 'application-a-1',
      revision: 3,
      position: { commit: 5120n, prepare: 5056n },
      recordedAt: new Date('2024-03-05T08:00:01.234Z'),
    });
  });

  it('parses metadata the client handed back as bytes', () => {
    const bytes = new Uint8Array(Buffer.from(JSON.stringify(metadata), 'utf8'));
    expect(toRecordedEvent(record({ metadata: bytes })).metadata).toEqual(metadata);
  });

  it.each([
    ['a binary event', { isJson: false, data: new Uint8Array([1]) }, 'not a JSON event'],
    ['data that is not an object', { data: [1, 2] }, 'data is not a JSON object'],
    ['no metadata', { metadata: undefined }, 'metadata is missing or not a JSON object'],
    ['metadata bytes that are not JSON', { metadata: new Uint8Array([0x7b, 0x78]) }, 'metadata is missing'],
    ['no position', { position: undefined }, 'no position; stream reads return positions from EventStoreDB 22.6 on'],
    [
      'the max-uint64 position of an old server',
      { position: { commit: 18_446_744_073_709_551_615n, prepare: 18_446_744_073_709_551_615n } },
      'no position; stream reads return positions from EventStoreDB 22.6 on',
    ],
  ])('refuses %s', (_, overrides, reason) => {
    const read = () => toRecordedEvent(record(overrides as Partial<EsdbRecord>));
    expect(read).toThrow(UnreadableEventError);
    expect(read).toThrow(`Event ${newEvent.id} (application-a-1@3): ${reason}`);
  });
});

describe('isSystemRecord', () => {
  it.each([
    ['$statsCollected', '$stats-127.0.0.1:2113', true],
    ['$>', '$ce-application', true],
    ['$metadata', '$$application-a-1', true],
    ['SomethingPlain', '$system-stream', true],
    ['ApplicationSubmitted', 'application-a-1', false],
  ])('type %s in %s → %s', (type, streamId, expected) => {
    expect(isSystemRecord({ type, streamId })).toBe(expected);
  });
});

describe('expected revision', () => {
  it.each([
    ['any', 'any'],
    ['no_stream', 'no_stream'],
    ['stream_exists', 'stream_exists'],
    [0, 0n],
    [41, 41n],
  ] as const)('%p → %p', (ours, theirs) => {
    expect(toEsdbExpectedRevision(ours)).toBe(theirs);
  });

  it.each([-1, 1.5, Number.NaN, 2 ** 53])('refuses %p', (revision) => {
    expect(() => toEsdbExpectedRevision(revision)).toThrow(RangeError);
  });
});

describe('revisions and positions from the client', () => {
  it('turns bigint revisions into numbers', () => {
    expect(fromEsdbRevision(0n)).toBe(0);
    expect(fromEsdbRevision(9_007_199_254_740_991n)).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => fromEsdbRevision(9_007_199_254_740_992n)).toThrow(RangeError);
    expect(() => fromEsdbRevision(-1n)).toThrow(RangeError);
  });

  it('keeps no_stream as the current revision of a missing stream', () => {
    expect(fromEsdbCurrentRevision('no_stream')).toBe('no_stream');
    expect(fromEsdbCurrentRevision(7n)).toBe(7);
  });

  it('carries commit and prepare across unchanged, both ways', () => {
    const position = { commit: 18_446_744_073_709_551_000n, prepare: 18_446_744_073_709_550_000n };
    expect(toEsdbPosition(position)).toEqual(position);
    expect(fromEsdbPosition(position)).toEqual(position);
    expect(toEsdbPosition(position)).not.toBe(position);
  });
});

describe('mapAppendError', () => {
  it('turns the client conflict into ours, with the revision the stream is at', () => {
    const conflict = new WrongExpectedVersionError(undefined, {
      streamName: 'application-a-1',
      expected: 2n,
      current: 4n,
    });
    const mapped = mapAppendError(conflict, 'application-a-1', 2);
    expect(mapped).toBeInstanceOf(WrongExpectedRevisionError);
    expect(mapped).toMatchObject({ streamId: 'application-a-1', expected: 2, actual: 4 });
    expect((mapped as Error).message).toBe('Stream application-a-1: expected revision 2, but it is at 4');
  });

  it('reports no_stream when the stream does not exist', () => {
    const conflict = new WrongExpectedVersionError(undefined, {
      streamName: 'application-a-2',
      expected: 'stream_exists',
      current: 'no_stream',
    });
    expect(mapAppendError(conflict, 'application-a-2', 'stream_exists')).toMatchObject({
      streamId: 'application-a-2',
      expected: 'stream_exists',
      actual: 'no_stream',
    });
  });

  it('recognises a conflict by its type when it comes from another copy of the client', () => {
    const shaped = { type: 'wrong-expected-version', actualVersion: 0n, message: 'conflict' };
    expect(mapAppendError(shaped, 'application-a-3', 'no_stream')).toMatchObject({
      streamId: 'application-a-3',
      expected: 'no_stream',
      actual: 0,
    });
  });

  it('passes every other error through untouched', () => {
    const other = new UnknownError(undefined, 'boom');
    expect(mapAppendError(other, 'application-a-1', 'any')).toBe(other);
  });
});

describe('failedAppendError', () => {
  it('reads -1 as no stream and anything else as the current revision', () => {
    expect(failedAppendError('s', 'stream_exists', -1n)).toMatchObject({ actual: 'no_stream', expected: 'stream_exists' });
    expect(failedAppendError('s', 0, 5n)).toMatchObject({ actual: 5, expected: 0, streamId: 's' });
  });
});

describe('isStreamNotFound', () => {
  it('knows the client error and nothing else', () => {
    expect(isStreamNotFound(new StreamNotFoundError(undefined, 'application-none'))).toBe(true);
    expect(isStreamNotFound({ type: 'stream-not-found' })).toBe(true);
    expect(isStreamNotFound(new UnknownError())).toBe(false);
    expect(isStreamNotFound(new Error('stream-not-found'))).toBe(false);
  });
});

describe('withConnectionDefaults', () => {
  const defaults = { defaultDeadline: 10_000, keepAliveInterval: 10_000, keepAliveTimeout: 5_000 };

  it('adds every default to a string without parameters', () => {
    expect(withConnectionDefaults('esdb://localhost:2113/', defaults)).toBe(
      'esdb://localhost:2113?defaultDeadline=10000&keepAliveInterval=10000&keepAliveTimeout=5000',
    );
  });

  it('never overrides what the string sets, whatever its spelling', () => {
    expect(
      withConnectionDefaults('esdb://admin:changeit@es1:2113?tls=false&default-deadline=3000&KeepAliveTimeout=1', defaults),
    ).toBe('esdb://admin:changeit@es1:2113?tls=false&default-deadline=3000&KeepAliveTimeout=1&keepAliveInterval=10000');
  });

  it('leaves a string that sets everything as it is', () => {
    const full = 'esdb+discover://cluster.local?defaultDeadline=1&keepAliveInterval=2&keepAliveTimeout=3';
    expect(withConnectionDefaults(full, defaults)).toBe(full);
  });
});
