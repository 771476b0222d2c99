import { EventStore, GlobalPosition, RecordedEvent, SubscribeOptions, Subscription, comparePositions } from './event-store.port';

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
    private readonly store: Pick<EventStore, 'readAll' | 'headPosition'>,
    private readonly pollIntervalMs = DEFAULT_POLL_INTERVAL_MS,
  ) {}

  notifyAppended(): void {
    this.appended.fire();
    this.appended = new Signal();
  }

  subscribe({ after, streamPrefix, handler, onError, batchSize = DEFAULT_BATCH_SIZE }: SubscribeOptions): Subscription {
    const stopped = new Signal();
    let checkpoint: GlobalPosition | undefined = after;
    let caughtUp = true; // until a read says otherwise

    const run = async () => {
      while (!stopped.fired) {
        // Taken before reading, so that an append landing during the read still wakes us.
        const appended = this.appended;
        const readAt = Date.now();
        // Taken before reading too: a filtered read that comes back short has passed over
        // everything up to it (see reachedThrough). Only once caught up: while catching up,
        // reads come back full and reach their last event, and a round trip less per read
        // keeps the handler busier.
        const withHead = streamPrefix !== undefined && caughtUp;
        const head = withHead ? await this.store.headPosition() : undefined;
        // A head that has not moved past the checkpoint has nothing after it: an idle poll
        // costs that one query, not a read as well.
        const idle = withHead && (!head || (checkpoint !== undefined && comparePositions(head, checkpoint) <= 0));
        const events = idle ? [] : await this.store.readAll({ after: checkpoint, limit: batchSize, streamPrefix });
        if (stopped.fired) return;
        const through = reachedThrough(events, batchSize, head, checkpoint);
        if (through) {
          await handler(events, through);
          checkpoint = through;
        }
        caughtUp = events.length < batchSize;
        if (caughtUp) {
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

/**
 * Where a read has got to, or undefined if nowhere new. A full page reaches its last event.
 * A short one has read everything of the prefix up to the store's head as it stood before
 * the read, so it also reaches that head: the events between were of other streams.
 */
function reachedThrough(
  events: RecordedEvent[],
  limit: number,
  headBefore: GlobalPosition | undefined,
  after: GlobalPosition | undefined,
): GlobalPosition | undefined {
  let through = events.at(-1)?.position;
  if (events.length < limit && headBefore && (!through || comparePositions(headBefore, through) > 0)) through = headBefore;
  if (through && after && comparePositions(through, after) <= 0) return undefined;
  return through;
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
