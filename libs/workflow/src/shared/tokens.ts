/** Injection tokens for the ports the workflow needs from the outside. */
export const EVENT_STORE = Symbol('EventStore');
export const CLOCK = Symbol('Clock');
export const SNAPSHOT_STORE = Symbol('SnapshotStore');
