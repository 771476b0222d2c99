export * from './event-store.port';
export * from './memory/in-memory-event-store';
export * from './postgres/postgres-event-store';
export * from './esdb';
