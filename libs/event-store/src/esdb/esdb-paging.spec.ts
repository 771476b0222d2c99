import type { GlobalPosition } from '../event-store.port';
import type { EsdbRecord } from './esdb-mapping';
import { findLastPosition, forwardPageSize, readAllAfter, type EsdbResolved, type ReadAllPage } from './esdb-paging';

const metadata = {
  actorId: 'u-1',
  role: 'applicant',
  correlationId: 'c',
  causationId: 'c',
  occurredAt: '2024-01-01T00:00:00.000Z',
  schemaVersion: 1,
};

/** A $all log: our events and system events, at commit = prepare = 100 × (index + 1). */
function log(kinds: Array<'ours' | 'system'>): EsdbResolved[] {
  return kinds.map((kind, index) => {
    const at = BigInt((index + 1) * 100);
    const event: EsdbRecord =
      kind === 'ours'
        ? {
            streamId: `application-${index}`,
            id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
            revision: 0n,
            type: 'ApplicationSubmitted',
            isJson: true,
            data: { index },
            metadata,
            created: new Date(0),
            position: { commit: at, prepare: at },
          }
        : {
            streamId: '$stats-node',
            id: `00000000-0000-4000-9000-${String(index).padStart(12, '0')}`,
            revision: 0n,
            type: '$statsCollected',
            isJson: true,
            data: {},
            metadata: undefined,
            created: new Date(0),
            position: { commit: at, prepare: at },
          };
    return { event };
  });
}

/**
 * Reads like the server: a start position is inclusive (the record at it comes back),
 * `start`/`end` are the edges. Records every call so tests can see the paging.
 */
function reader(records: EsdbResolved[], direction: 'forwards' | 'backwards') {
  const calls: Array<[string, number]> = [];
  const positionOf = (r: EsdbResolved) => r.event!.position!.commit;
  const read: ReadAllPage = async (from, maxCount) => {
    calls.push([typeof from === 'string' ? from : String(from.commit), maxCount]);
    if (direction === 'forwards') {
      const start = from === 'start' ? 0n : (from as GlobalPosition).commit;
      return records.filter((r) => positionOf(r) >= start).slice(0, maxCount);
    }
    const end = from === 'end' ? BigInt(Number.MAX_SAFE_INTEGER) : (from as GlobalPosition).commit;
    return records
      .filter((r) => positionOf(r) <= end)
      .reverse()
      .slice(0, maxCount);
  };
  return { read, calls };
}

const indexes = (events: Array<{ data: Record<string, unknown> }>) => events.map((e) => e.data.index);

describe('readAllAfter', () => {
  it('reads from the start, skipping system events, up to the limit', async () => {
    const { read } = reader(log(['system', 'ours', 'ours', 'system', 'ours', 'ours']), 'forwards');
    const events = await readAllAfter(read, { limit: 3, pageSize: 500 });
    expect(indexes(events)).toEqual([1, 2, 4]);
    expect(events.map((e) => e.position)).toEqual([
      { commit: 200n, prepare: 200n },
      { commit: 300n, prepare: 300n },
      { commit: 500n, prepare: 500n },
    ]);
  });

  it('keeps to the streams of a streamPrefix, paging on past the others', async () => {
    const records = log(['ours', 'ours', 'ours', 'system', 'ours', 'ours']);
    for (const index of [1, 2, 4]) records[index].event!.streamId = `programme-${index}`;
    const { read } = reader(records, 'forwards');
    const events = await readAllAfter(read, { limit: 2, pageSize: 2, streamPrefix: 'application-' });
    expect(indexes(events)).toEqual([0, 5]);
  });

  it('is exclusive: the event at `after` is not returned again', async () => {
    const { read } = reader(log(['ours', 'ours', 'ours']), 'forwards');
    const events = await readAllAfter(read, { after: { commit: 200n, prepare: 200n }, limit: 10, pageSize: 500 });
    expect(indexes(events)).toEqual([2]);
  });

  it('pages on past a run of system events longer than a page', async () => {
    const { read, calls } = reader(log(['ours', 'system', 'system', 'system', 'system', 'system', 'ours']), 'forwards');
    const events = await readAllAfter(read, { limit: 5, pageSize: 3 });
    expect(indexes(events)).toEqual([0, 6]);
    expect(calls).toEqual([
      ['start', 3],
      ['300', 3],
      ['500', 3],
      ['700', 3],
    ]);
  });

  it('takes one page when the record at `after` comes back with it', async () => {
    const { read, calls } = reader(log(['ours', 'ours', 'ours', 'ours']), 'forwards');
    const events = await readAllAfter(read, { after: { commit: 100n, prepare: 100n }, limit: 2, pageSize: 3 });
    expect(indexes(events)).toEqual([1, 2]);
    expect(calls).toEqual([['100', 3]]);
  });

  it('returns an empty array for an empty store, past the end, or a zero limit', async () => {
    expect(await readAllAfter(reader([], 'forwards').read, { limit: 10, pageSize: 500 })).toEqual([]);
    const { read } = reader(log(['ours']), 'forwards');
    expect(await readAllAfter(read, { after: { commit: 100n, prepare: 100n }, limit: 10, pageSize: 500 })).toEqual([]);
    expect(await readAllAfter(read, { limit: 0, pageSize: 500 })).toEqual([]);
  });

  it('fails instead of looping when the server keeps returning the same page', async () => {
    const page = log(['system', 'system']);
    const stuck: ReadAllPage = async () => page;
    await expect(readAllAfter(stuck, { limit: 1, pageSize: 2 })).rejects.toThrow('Reading $all made no progress from 200/200');
  });
});

describe('forwardPageSize', () => {
  it('asks for one more than the limit, at least the minimum, at most the maximum', () => {
    expect(forwardPageSize(200, 500)).toBe(201);
    expect(forwardPageSize(7, 500)).toBe(64);
    expect(forwardPageSize(7, 500, 2)).toBe(8);
    expect(forwardPageSize(5000, 500)).toBe(500);
    expect(forwardPageSize(0, 1, 1)).toBe(2);
  });
});

describe('findLastPosition', () => {
  it('is the position of the last of our events, behind trailing system events', async () => {
    const { read } = reader(log(['ours', 'ours', 'system', 'system']), 'backwards');
    expect(await findLastPosition(read, 100)).toEqual({ commit: 200n, prepare: 200n });
  });

  it('pages backwards when system events fill a whole page', async () => {
    const { read, calls } = reader(log(['ours', 'system', 'system', 'system', 'system']), 'backwards');
    expect(await findLastPosition(read, 2)).toEqual({ commit: 100n, prepare: 100n });
    expect(calls).toEqual([
      ['end', 2],
      ['400', 2],
      ['300', 2],
      ['200', 2],
    ]);
  });

  it('is undefined when the store holds only system events, or nothing', async () => {
    expect(await findLastPosition(reader(log(['system', 'system', 'system']), 'backwards').read, 2)).toBeUndefined();
    expect(await findLastPosition(reader([], 'backwards').read, 2)).toBeUndefined();
  });
});
