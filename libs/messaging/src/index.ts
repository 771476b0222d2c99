export * from './kafka-config';
export * from './topics';
export * from './integration-events';
export * from './outbound-relay';
export * from './payment-confirmation';
export * from './payment-consumer';
export { DEFAULT_RETRY_DELAYS } from './retry';
export type { RetryDelays } from './retry';
