import { EventStore, GlobalPosition, RecordedEvent, comparePositions, formatPosition } from '@kcflow/event-store/port';
import { applicationAggregate, programmeAggregate } from '../shared/aggregates';
import { Aggregate, DomainEventShape } from '../shared/fold';
import { SnapshotStore } from '../snapshots/snapshot-store';
import { foldWithSnapshots } from '../snapshots/stream-loader';
import { ChainVerdict, verifyChain } from './hash-chain';

export interface StoreVerdict {
  valid: boolean;
  streams: number;
  events: number;
  /** Every stream whose chain is broken, with the first broken revision. */
  broken: Array<{ streamId: string } & ChainVerdict>;
  /** Snapshots of the current fold versions compared with a fold of the events (none without a snapshot store). */
  snapshotsChecked: number;
  /** Snapshots that are not what folding the stored events gives: edited, or forged and re-sealed. */
  falseSnapshots: Array<{ streamId: string; revision: number; foldVersion: string }>;
}

/** How long to wait for events committed but still held out of readAll (see verifyStore). */
const HELD_BACK_WAIT_MS = 60_000;

/**
 * `npm run audit:verify`: the hash chain of every stream in the store and, given the
 * snapshot store, every snapshot of the current fold versions against a fold of the events
 * (the loaders check a snapshot's seal and event hash, which someone able to write the table
 * could forge; only a full fold proves its state). Snapshots of older fold versions are never
 * used, so they are not checked. Reads the whole store in global order, page by page, and
 * groups the events by stream: holding every event in memory is fine at a city programme's
 * scale (tens of thousands).
 */
export async function verifyStore(store: EventStore, pageSize = 1000, snapshots?: SnapshotStore): Promise<StoreVerdict> {
  const streams = new Map<string, RecordedEvent[]>();
  // Everything committed before the verification began, including events that a transaction
  // still open elsewhere holds out of readAll for now (PostgreSQL): a verdict that quietly
  // left out the newest events would mislead the inspector who asked for it.
  const committed = await store.lastCommittedPosition();
  const deadline = Date.now() + HELD_BACK_WAIT_MS;
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
    after = page.at(-1)?.position ?? after;
    if (page.length === pageSize) continue;
    if (!committed || (after && comparePositions(after, committed) >= 0)) break;
    if (Date.now() >= deadline) {
      throw new Error(
        `Could not read up to ${formatPosition(committed)}, the last event committed when the verification began, within ${HELD_BACK_WAIT_MS / 1000} s: a transaction open since before it still holds readAll back`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const broken: StoreVerdict['broken'] = [];
  const falseSnapshots: StoreVerdict['falseSnapshots'] = [];
  let snapshotsChecked = 0;
  for (const [streamId, stream] of streams) {
    // Global order follows commit order; a chain is defined in revision order.
    const verdict = verifyChain(stream.sort((a, b) => a.revision - b.revision));
    if (!verdict.valid) broken.push({ streamId, ...verdict });
    const aggregate = aggregateOf(streamId);
    const stored = aggregate?.snapshots && snapshots ? await snapshots.forStream(streamId) : [];
    const current = stored.filter((snapshot) => snapshot.foldVersion === aggregate?.snapshots?.foldVersion);
    if (!aggregate || current.length === 0) continue;
    const folded = new Map(foldWithSnapshots(aggregate, streamId, aggregate.initialState(), stream).snapshots().map((s) => [s.revision, s]));
    for (const snapshot of current) {
      snapshotsChecked++;
      const truth = folded.get(snapshot.revision);
      const same = truth !== undefined && truth.state === snapshot.state && truth.eventHash === snapshot.eventHash && truth.seal === snapshot.seal;
      if (!same) falseSnapshots.push({ streamId, revision: snapshot.revision, foldVersion: snapshot.foldVersion });
    }
  }
  return { valid: broken.length === 0 && falseSnapshots.length === 0, streams: streams.size, events, broken, snapshotsChecked, falseSnapshots };
}

function aggregateOf(streamId: string): Aggregate<unknown, DomainEventShape> | undefined {
  if (streamId.startsWith('application-')) return applicationAggregate as unknown as Aggregate<unknown, DomainEventShape>;
  if (streamId.startsWith('programme-')) return programmeAggregate as unknown as Aggregate<unknown, DomainEventShape>;
  return undefined;
}
