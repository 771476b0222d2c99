import type { EventStore, GlobalPosition, RecordedEvent } from '@kcflow/event-store/port';
import { ChainVerdict, verifyChain } from './hash-chain';

export interface StoreVerdict {
  valid: boolean;
  streams: number;
  events: number;
  /** Every stream whose chain is broken, with the first broken revision. */
  broken: Array<{ streamId: string } & ChainVerdict>;
}

/**
 * `npm run audit:verify`: the hash chain of every stream in the store. Reads the whole store
 * in global order, page by page, groups the events by stream and verifies each chain.
 * Holding every event in memory is fine at a city programme's scale (tens of thousands).
 */
export async function verifyStore(store: EventStore, pageSize = 1000): Promise<StoreVerdict> {
  const streams = new Map<string, RecordedEvent[]>();
  let after: GlobalPosition | undefined;
  let events = 0;
  for (;;) {
    const page = await store.readAll({ after, limit: pageSize });
    for (const event of page) {
      const stream = streams.get(event.streamId) ?? [];
      stream.push(event);
      streams.set(event.streamId, stream);
    }
    events += page.length;
    if (page.length < pageSize) break;
    after = page[page.length - 1].position;
  }
  const broken: StoreVerdict['broken'] = [];
  for (const [streamId, stream] of streams) {
    // Global order follows commit order; a chain is defined in revision order.
    const verdict = verifyChain(stream.sort((a, b) => a.revision - b.revision));
    if (!verdict.valid) broken.push({ streamId, ...verdict });
  }
  return { valid: broken.length === 0, streams: streams.size, events, broken };
}
