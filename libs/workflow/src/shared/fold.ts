import type { RecordedEvent } from '@kcflow/event-store/port';

export type DomainEventShape = { type: string; data: object };

export interface Aggregate<State, Event extends DomainEventShape> {
  initialState(): State;
  evolve(state: State, event: Event): State;
  /** Many events at once: the state `events.reduce(evolve, state)` gives, sooner. */
  fold?(state: State, events: readonly Event[]): State;
  /** For streams that can grow long: how their folded state is snapshotted (snapshots/). */
  snapshots?: SnapshotPolicy;
}

export interface SnapshotPolicy {
  /** Names the fold and its version, e.g. "programme/1"; snapshots of any other are ignored. */
  foldVersion: string;
  /** A snapshot is written once this many events have been appended since the last. */
  every: number;
  /** Commands load the stream from a snapshot (an extra round trip, worth it only for long streams). */
  loadOnCommand: boolean;
}

/** `events.reduce(aggregate.evolve, state)`, through the aggregate's own fold where it has one. */
export function foldEvents<State, Event extends DomainEventShape>(
  aggregate: Aggregate<State, Event>,
  state: State,
  events: readonly (Event | RecordedEvent)[],
): State {
  const typed = events as unknown as readonly Event[];
  return aggregate.fold ? aggregate.fold(state, typed) : typed.reduce(aggregate.evolve, state);
}
