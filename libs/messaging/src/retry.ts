import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryDelays {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY_DELAYS: RetryDelays = { initialMs: 250, maxMs: 10_000 };

export function backoff(attempt: number, { initialMs, maxMs }: RetryDelays): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 30));
}

/**
 * Runs `work` until it succeeds, waiting longer after each failure (infrastructure that is
 * down comes back; giving up would lose the message or the event). Only `signal` ends it,
 * at once, even while an attempt is under way: then it rejects, and the caller must not
 * treat the work as done.
 */
export async function retryUntilDone<T>(
  work: () => Promise<T>,
  signal: AbortSignal,
  delays: RetryDelays,
  onFailure: (error: unknown, attempt: number, delayMs: number) => void | Promise<void>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    signal.throwIfAborted();
    try {
      return await abandonOnAbort(work(), signal);
    } catch (error) {
      if (signal.aborted) throw error;
      const delayMs = backoff(attempt, delays);
      await onFailure(error, attempt, delayMs);
      await sleep(delayMs, undefined, { signal });
    }
  }
}

/**
 * Settles with `work`, or rejects as soon as `signal` aborts: stop() must not wait for a
 * send that kafkajs is still retrying against a broker that is down. The work may still
 * finish in the background; callers treat it as not done (at least once: it comes again).
 */
function abandonOnAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
