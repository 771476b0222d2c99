import { comparePositions, type GlobalPosition, type RecordedEvent } from '../event-store.port';

/**
 * How far a subscription's batches reach (the `through` handed to the handler): the last
 * event, or past it the last checkpoint a filtered subscription received, once it is safe.
 * The client calls `checkpointReached` only after it has pushed every event before the
 * checkpoint into the buffer, so a batch that empties the buffer has taken them all.
 */
export function subscriptionReach(after: GlobalPosition | undefined) {
  let checkpoint: GlobalPosition | undefined;
  let delivered = after;
  return {
    checkpointReached(position: GlobalPosition): void {
      checkpoint = position;
    },
    reach(batch: RecordedEvent[], drained: boolean): GlobalPosition | undefined {
      let through = batch.at(-1)?.position;
      if (drained && checkpoint && (!through || comparePositions(checkpoint, through) > 0)) through = checkpoint;
      if (!through || (delivered && comparePositions(through, delivered) <= 0)) return undefined;
      delivered = through;
      return through;
    },
  };
}
