/**
 * A ThreadedProducer entry for tests: its first thread dies at the first request, as a thread
 * that ran out of memory would; the threads that replace it are the real producer thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ProducerThreadData } from '../threaded-producer';

if ((workerData as ProducerThreadData).generation === 1) {
  parentPort!.once('message', () => process.exit(70));
} else {
  require('../producer-thread');
}
