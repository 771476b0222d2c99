export * from './infrastructure';
export * from './logger';
export * from './advisory-leases';
export * from './readiness';
export * from './messaging';
export * from './data-dir-lock';
export * from './start-up';
export * from './sql-snapshot-store';
