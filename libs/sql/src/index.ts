export * from './sql-database';
export * from './pg-database';
export * from './pglite-database';
