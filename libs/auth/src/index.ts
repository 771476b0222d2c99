export * from './actor';
export * from './access-policy';
export * from './access.decorators';
export * from './jwt-verifier';
export * from './auth.guard';
export * from './auth.module';
export * from './dev-token';
export * from './token-cli';
