import { ExpectedRevision } from './event-store.port';

/** Whether a stream standing at `actual` (its last revision) meets the writer's expectation. */
export function meetsExpectation(expected: ExpectedRevision, actual: number | 'no_stream'): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return actual === 'no_stream';
    case 'stream_exists':
      return actual !== 'no_stream';
    default:
      return actual === expected;
  }
}
