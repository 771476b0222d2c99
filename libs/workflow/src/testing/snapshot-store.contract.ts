import { randomUUID } from 'node:crypto';
import { Snapshot, SnapshotStore, sealedSnapshot } from '../snapshots/snapshot-store';

/**
 * The one suite every SnapshotStore adapter must pass. Each test works on streams of its own
 * (a random tag), so the store may hold other snapshots before and between.
 */
export function describeSnapshotStoreContract(
  name: string,
  factory: () => Promise<{ store: SnapshotStore; teardown?: () => Promise<void> }>,
): void {
  describe(`${name} meets the snapshot store contract`, () => {
    let store: SnapshotStore;
    let teardown: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      ({ store, teardown } = await factory());
    }, 60_000);

    afterAll(async () => {
      await teardown?.();
    });

    const streamId = () => `application-${randomUUID()}`;
    const at = (stream: string, revision: number, foldVersion = 'application/1', state: unknown = { status: 'approved', revision }) =>
      sealedSnapshot(stream, revision, foldVersion, `${revision}`.padStart(64, 'a'), state);

    it('has nothing for a stream never snapshotted', async () => {
      expect(await store.latest(streamId(), 'application/1')).toBeUndefined();
    });

    it('round-trips every field, the state byte for byte (key order, Vietnamese text, large numbers)', async () => {
      const stream = streamId();
      const state = { z: 1, a: { name: 'HTX Mây tre đan Phú Vinh', amount: 99_999_999_999_999, share: 0.7 }, list: [{ paymentRef: 'KBNN-1' }], none: null };
      const snapshot = at(stream, 199, 'application/1', state);
      await store.save([snapshot]);

      const loaded = (await store.latest(stream, 'application/1')) as Snapshot;
      expect(loaded).toEqual(snapshot);
      expect(loaded.state).toBe(JSON.stringify(state));
    });

    it('gives the highest revision at or below atMost, and the highest of all without it', async () => {
      const stream = streamId();
      await store.save([at(stream, 99), at(stream, 299)]);
      await store.save([at(stream, 199)]);

      expect((await store.latest(stream, 'application/1'))?.revision).toBe(299);
      expect((await store.latest(stream, 'application/1', 298))?.revision).toBe(199);
      expect((await store.latest(stream, 'application/1', 199))?.revision).toBe(199);
      expect((await store.latest(stream, 'application/1', 150))?.revision).toBe(99);
      expect(await store.latest(stream, 'application/1', 98)).toBeUndefined();
    });

    it('keeps streams and fold versions apart', async () => {
      const stream = streamId();
      const other = streamId();
      await store.save([at(stream, 99, 'application/1'), at(stream, 199, 'application/2'), at(other, 299)]);

      expect((await store.latest(stream, 'application/1'))?.revision).toBe(99);
      expect((await store.latest(stream, 'application/2'))?.revision).toBe(199);
      expect(await store.latest(stream, 'programme/1')).toBeUndefined();
    });

    it('lists every snapshot of one stream, of every fold version, by revision', async () => {
      const stream = streamId();
      const snapshots = [at(stream, 199, 'application/2'), at(stream, 99, 'application/1'), at(streamId(), 99)];
      await store.save(snapshots);

      expect(await store.forStream(stream)).toEqual([snapshots[1], snapshots[0]]);
      expect(await store.forStream(streamId())).toEqual([]);
    });

    it('replaces what was saved for the same stream, fold version and revision (mending a damaged snapshot)', async () => {
      const stream = streamId();
      await store.save([{ ...at(stream, 99, 'application/1', { status: 'approved' }), state: '{"status":"closed"}' }]);
      const mended = at(stream, 99, 'application/1', { status: 'approved' });
      await store.save([mended]);

      expect(await store.latest(stream, 'application/1')).toEqual(mended);
    });

    it('saves nothing when given nothing', async () => {
      await expect(store.save([])).resolves.toBeUndefined();
    });
  });
}
