import { GlobalPosition, ReadAllOptions, RecordedEvent, SubscribeOptions, Subscription } from './event-store.port';

const DEFAULT_BATCH_SIZE = 500;
export const DEFAULT_POLL_INTERVAL_MS = 100;
/**
 * The least time between two reads of a live subscription. Woken by every append, it would
 * otherwise read one event at a time under load, and a projection pays the same few
 * statements per batch however small: on the embedded store, where the projections share the
 * api's one connection, that cost most of each command. Waiting this long lets appends gather
 * into one batch, at the price of read models trailing by as much.
 */
export const LIVE_READ_INTERVAL_MS = 25;

/**
 * Catch-up-then-live subscriptions for stores that can be read but do not push: read a
 * batch after the checkpoint, hand it over, advance; once caught up, sleep until this
 * process appends (`notifyAppended`) or the poll interval passes, so that appends made by
 * other processes are seen too.
 */
export class PollingSubscriptions {
  private readonly running = new Set<Subscription>();
  private appended = new Signal();

  constructor(
    private readonly readAll: (options: ReadAllOptions) => Promise<RecordedEvent[]>,
    private readonly pollIntervalMs = DEFAULT_POLL_INTERVAL_MS,
  ) {}

  notifyAppended(): void {
    this.appended.fire();
    this.appended = new Signal();
  }

  subscribe({ after, handler, onError, batchSize = DEFAULT_BATCH_SIZE }: SubscribeOptions): Subscription {
    const stopped = new Signal();
    let checkpoint: GlobalPosition | undefined = after;

    const run = async () => {
      while (!stopped.fired) {
        // Taken before reading, so that an append landing during the read still wakes us.
        const appended = this.appended;
        const readAt = Date.now();
        const events = await this.readAll({ after: checkpoint, limit: batchSize });
        if (stopped.fired) return;
        if (events.length > 0) {
          await handler(events);
          checkpoint = events[events.length - 1].position;
        }
        if (events.length < batchSize) {
          await sleep(this.pollIntervalMs, [appended, stopped]);
          await sleep(readAt + LIVE_READ_INTERVAL_MS - Date.now(), [stopped]);
        }
      }
    };

    const subscription: Subscription = {
      stop: async () => {
        stopped.fire();
        await done;
      },
    };
    const done = run()
      .catch((error: unknown) => {
        stopped.fire();
        onError(error);
      })
      .finally(() => this.running.delete(subscription));
    this.running.add(subscription);
    return subscription;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running].map((subscription) => subscription.stop()));
  }
}

/** A one-shot signal that wakes whoever sleeps on it. */
class Signal {
  fired = false;
  private readonly sleepers = new Set<() => void>();

  fire(): void {
    this.fired = true;
    this.sleepers.forEach((wake) => wake());
  }

  on(wake: () => void): void {
    this.sleepers.add(wake);
  }

  off(wake: () => void): void {
    this.sleepers.delete(wake);
  }
}

/**
 * Sleeps until one of the signals fires or `ms` pass. Sleepers unregister on waking: a
 * subscription idle for hours polls thousands of times and must not pile them up.
 */
function sleep(ms: number, signals: Signal[]): Promise<void> {
  if (ms <= 0 || signals.some((signal) => signal.fired)) return Promise.resolve();
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      signals.forEach((signal) => signal.off(wake));
      resolve();
    };
    const timer = setTimeout(wake, ms);
    signals.forEach((signal) => signal.on(wake));
  });
}
