export { EsdbEventStore, type EsdbEventStoreOptions } from './esdb-event-store';
export { UnreadableEventError, withConnectionDefaults, type ConnectionDefaults } from './esdb-mapping';
