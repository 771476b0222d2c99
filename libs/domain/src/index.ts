export * from './shared/actor';
export * from './shared/errors';
export * from './shared/money';
export * from './shared/regulations';
export * from './shared/vocabulary';
export * from './programme/programme';
export * from './application/application';
