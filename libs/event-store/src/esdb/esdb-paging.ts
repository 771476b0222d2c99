/**
 * Walking $all page by page. Client 6.x cannot filter `readAll` on the server, so system
 * events, and events of streams outside a `streamPrefix`, are dropped here, and a page may
 * hold fewer of our events than asked for.
 * The page reader is injected, so this runs without a server in unit tests.
 */
import { comparePositions, formatPosition, type GlobalPosition, type RecordedEvent } from '../event-store.port';
import { isSystemRecord, toRecordedEvent, type EsdbRecord } from './esdb-mapping';

export interface EsdbResolved {
  event?: EsdbRecord;
}

/** One `readAll` call: up to `maxCount` records from `from` (`start`/`end` or a position). */
export type ReadAllPage = (from: GlobalPosition | 'start' | 'end', maxCount: number) => Promise<EsdbResolved[]>;

/**
 * Records to ask for per page: one more than the limit, since the record at `after` comes
 * back too, but never so few that a run of system events costs a round trip each.
 */
export function forwardPageSize(limit: number, maxPageSize: number, minPageSize = 64): number {
  return Math.max(2, Math.min(maxPageSize, Math.max(limit + 1, minPageSize)));
}

/**
 * Up to `limit` of our events strictly after `after`. The record at a start position comes
 * back from the server, so anything at or before the cursor is skipped; pages of at least
 * two records therefore always move forward.
 */
export async function readAllAfter(
  readForwards: ReadAllPage,
  options: { after?: GlobalPosition; limit: number; pageSize: number; streamPrefix?: string },
): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  if (options.limit <= 0) return events;
  const pageSize = Math.max(2, options.pageSize);
  let cursor = options.after;
  for (;;) {
    const start = cursor;
    const page = await readForwards(start ?? 'start', pageSize);
    for (const { event: record } of page) {
      if (!record?.position) continue;
      if (cursor && comparePositions(record.position, cursor) <= 0) continue;
      cursor = record.position;
      if (isSystemRecord(record) || !record.streamId.startsWith(options.streamPrefix ?? '')) continue;
      events.push(toRecordedEvent(record));
      if (events.length === options.limit) return events;
    }
    if (page.length < pageSize) return events;
    if (cursor === start) throw stuck(start);
  }
}

/** Position of the last of our events in $all, reading backwards past system events. */
export async function findLastPosition(
  readBackwards: ReadAllPage,
  pageSize: number,
): Promise<GlobalPosition | undefined> {
  const size = Math.max(2, pageSize);
  let cursor: GlobalPosition | undefined;
  for (;;) {
    const start = cursor;
    const page = await readBackwards(start ?? 'end', size);
    for (const { event: record } of page) {
      if (!record?.position) continue;
      if (cursor && comparePositions(record.position, cursor) >= 0) continue;
      cursor = record.position;
      if (!isSystemRecord(record)) return { commit: record.position.commit, prepare: record.position.prepare };
    }
    if (page.length < size) return undefined;
    if (cursor === start) throw stuck(start);
  }
}

/** A full page that did not move the cursor would otherwise loop for ever. */
function stuck(at: GlobalPosition | undefined): Error {
  return new Error(`Reading $all made no progress from ${at ? formatPosition(at) : 'the edge'}`);
}
