export * from './infrastructure';
export * from './logger';
