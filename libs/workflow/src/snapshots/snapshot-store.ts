import { createHash } from 'node:crypto';

/**
 * Snapshots: the folded state of a stream as of one of its revisions, so that a long stream
 * (a programme through a plan year, an application paid in thousands of tranches) can be
 * loaded by folding only the events after it. A snapshot is an optimisation and nothing
 * more: it is derived from the stored events, proves which ones (the hash-chain hash of the
 * event it was taken at), and whoever loads it checks that proof and falls back to folding
 * the whole stream on any doubt (snapshot-loading.ts). Dropping every snapshot changes no
 * answer, only how fast it comes.
 */
export interface Snapshot {
  streamId: string;
  /** Revision of the last event folded into `state`. */
  revision: number;
  /** What made the state, and in which version: e.g. "application/1" (domain *_FOLD_VERSION). */
  foldVersion: string;
  /** `metadata.hash` of the event at `revision`: the hash chain up to there. */
  eventHash: string;
  /** The state as JSON text, kept byte for byte so the seal can be checked without re-serialising. */
  state: string;
  /** SHA-256 over all of the above: a snapshot altered after it was written no longer matches. */
  seal: string;
}

export interface SnapshotStore {
  /** The snapshot of the stream made by this fold version with the highest revision ≤ `atMost` (no limit if omitted). */
  latest(streamId: string, foldVersion: string, atMost?: number): Promise<Snapshot | undefined>;
  /**
   * Saves each, in place of one saved for the same stream, fold version and revision: two
   * honest snapshots of a revision are identical, so this only ever mends a damaged one.
   */
  save(snapshots: readonly Snapshot[]): Promise<void>;
  /** Every snapshot of the stream, of any fold version, by revision: for audit:verify. */
  forStream(streamId: string): Promise<Snapshot[]>;
}

export function sealOf(snapshot: Omit<Snapshot, 'seal'>): string {
  return createHash('sha256')
    .update(`kcflow-snapshot\n${snapshot.streamId}\n${snapshot.revision}\n${snapshot.foldVersion}\n${snapshot.eventHash}\n`)
    .update(snapshot.state)
    .digest('hex');
}

export function sealedSnapshot(streamId: string, revision: number, foldVersion: string, eventHash: string, state: unknown): Snapshot {
  const unsealed = { streamId, revision, foldVersion, eventHash, state: JSON.stringify(state) };
  return { ...unsealed, seal: sealOf(unsealed) };
}

/** For tests and the in-memory event store; snapshots live as long as the process. */
export class InMemorySnapshotStore implements SnapshotStore {
  private readonly byStream = new Map<string, Snapshot[]>();

  async latest(streamId: string, foldVersion: string, atMost?: number): Promise<Snapshot | undefined> {
    let best: Snapshot | undefined;
    for (const snapshot of this.byStream.get(streamId) ?? []) {
      if (snapshot.foldVersion !== foldVersion || (atMost !== undefined && snapshot.revision > atMost)) continue;
      if (!best || snapshot.revision > best.revision) best = snapshot;
    }
    return best && { ...best };
  }

  async forStream(streamId: string): Promise<Snapshot[]> {
    return (this.byStream.get(streamId) ?? []).map((snapshot) => ({ ...snapshot })).sort((a, b) => a.revision - b.revision);
  }

  async save(snapshots: readonly Snapshot[]): Promise<void> {
    for (const snapshot of snapshots) {
      const kept = (this.byStream.get(snapshot.streamId) ?? []).filter((s) => s.foldVersion !== snapshot.foldVersion || s.revision !== snapshot.revision);
      kept.push({ ...snapshot });
      this.byStream.set(snapshot.streamId, kept);
    }
  }
}
