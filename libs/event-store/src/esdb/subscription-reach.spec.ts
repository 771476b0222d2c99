import type { GlobalPosition, RecordedEvent } from '../event-store.port';
import { subscriptionReach } from './subscription-reach';

const at = (n: number): GlobalPosition => ({ commit: BigInt(n), prepare: BigInt(n) });
const events = (...positions: number[]) => positions.map((n) => ({ position: at(n) }) as RecordedEvent);

describe('subscriptionReach', () => {
  it('reaches the last event of each batch, and nowhere new without one', () => {
    const { reach } = subscriptionReach(undefined);
    expect(reach(events(1, 2), false)).toEqual(at(2));
    expect(reach(events(), true)).toBeUndefined();
    expect(reach(events(3), true)).toEqual(at(3));
  });

  it('moves past the last event to a checkpoint once the buffer before it is taken', () => {
    const { reach, checkpointReached } = subscriptionReach(at(1));
    checkpointReached(at(9));
    expect(reach(events(2, 3), false)).toEqual(at(3));
    expect(reach(events(4), true)).toEqual(at(9));
    expect(reach(events(), true)).toBeUndefined();
  });

  it('hands over an empty batch for a checkpoint alone, never one at or before where it started', () => {
    const { reach, checkpointReached } = subscriptionReach(at(5));
    checkpointReached(at(5));
    expect(reach(events(), true)).toBeUndefined();
    checkpointReached(at(7));
    expect(reach(events(), true)).toEqual(at(7));
  });

  it('keeps to the events when a checkpoint lags behind them', () => {
    const { reach, checkpointReached } = subscriptionReach(undefined);
    checkpointReached(at(2));
    expect(reach(events(3, 4), true)).toEqual(at(4));
  });
});
