// The port alone, for layers that must not load the adapters (see .dependency-cruiser.js).
export * from '../event-store.port';
