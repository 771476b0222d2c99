import { InMemoryEventStore } from '@kcflow/event-store';
import { randomUUID } from 'node:crypto';
import { CommandLoop, hashEvent, verifyStore } from '@kcflow/workflow';

const counter = { initialState: () => 0, evolve: (n: number) => n + 1 };
const context = { actorId: 'a', role: 'admin', correlationId: 'c', causationId: 'c' };

async function storeWithStreams(streams: number, eventsEach: number) {
  const store = new InMemoryEventStore();
  const loop = new CommandLoop(store, { now: () => new Date('2024-01-01T00:00:00Z') });
  for (let e = 0; e < eventsEach; e++) {
    for (let s = 0; s < streams; s++) await loop.execute(counter, `stream-${s}`, context, () => [{ type: 'Counted', data: { e } }]);
  }
  return store;
}

describe('verifyStore (npm run audit:verify)', () => {
  it('checks every stream, across pages that interleave streams', async () => {
    const store = await storeWithStreams(3, 4);
    expect(await verifyStore(store, 5)).toEqual({ valid: true, streams: 3, events: 12, broken: [], snapshotsChecked: 0, falseSnapshots: [] });
  });

  it('names each stream whose chain breaks, at the first broken revision', async () => {
    const store = await storeWithStreams(2, 2);
    // An event whose stored hash does not match its content: what an edited row looks like.
    const [last] = await store.readStream('stream-1', { toRevision: 1 }).then((events) => events.slice(-1));
    const forged = { id: randomUUID(), type: 'Counted', data: { e: 2 }, metadata: { ...context, occurredAt: '2024-01-01T00:00:00Z', schemaVersion: 1, prevHash: last.metadata.hash } };
    await store.append('stream-1', [{ ...forged, metadata: { ...forged.metadata, hash: hashEvent({ ...forged, data: { e: 3 } }) } }], 1);
    expect(await verifyStore(store, 2)).toEqual({
      valid: false,
      streams: 2,
      events: 5,
      broken: [{ streamId: 'stream-1', valid: false, events: 3, firstBrokenRevision: 2 }],
      snapshotsChecked: 0,
      falseSnapshots: [],
    });
  });

  it('an empty store is intact', async () => {
    expect(await verifyStore(new InMemoryEventStore())).toEqual({ valid: true, streams: 0, events: 0, broken: [], snapshotsChecked: 0, falseSnapshots: [] });
  });
});
