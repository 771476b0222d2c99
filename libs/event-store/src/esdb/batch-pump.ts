import type { Readable } from 'node:stream';

export interface BatchPumpOptions<I, T, P> {
  /** An object-mode stream, e.g. a client subscription; read only as fast as batches finish. */
  source: Readable;
  batchSize: number;
  /** Turns an item into what the handler gets, or drops it (undefined). May throw. */
  select: (item: I) => T | undefined;
  /**
   * Where a batch just taken reaches, told whether taking it emptied the source's buffer; or
   * undefined if nowhere new. The batch goes to the handler when it reaches somewhere new,
   * even empty (e.g. a checkpoint of a filtered subscription, past events it passed over).
   */
  reach: (batch: T[], drained: boolean) => P | undefined;
  handler: (batch: T[], through: P) => Promise<void>;
  /** Called at most once, when the source, `select` or the handler fails. */
  onError: (error: unknown) => void;
  /** Lets go of the source; called once however the pump ends. Its own failure is ignored. */
  release: () => Promise<void>;
}

export interface BatchPump {
  /** Stops after the batch in hand; resolves once the handler has returned. */
  stop(): Promise<void>;
  /** Asks `reach` again without a new item, after the source made progress out of band. */
  wake(): void;
  /** Settles when the pump has ended and released its source. */
  readonly done: Promise<void>;
}

/**
 * Delivers a stream's items in batches: each batch is what is already buffered, up to
 * `batchSize`, and the next batch waits for the handler's promise. While the handler runs
 * nothing is read, so the stream's buffer fills and back-pressure reaches the server.
 */
export function startBatchPump<I, T, P>(options: BatchPumpOptions<I, T, P>): BatchPump {
  const { source, batchSize, select, reach, handler, onError, release } = options;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be ≥ 1, got ${batchSize}`);

  let stopping = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };

  source.on('readable', notify);
  source.on('end', notify);
  source.on('close', notify);
  // Stays attached after the pump ends: an unheard 'error' event would crash the process.
  source.on('error', (error) => {
    if (!stopping) failure ??= { error };
    notify();
  });

  const take = (): { read: number; batch: T[] } => {
    const batch: T[] = [];
    let read = 0;
    while (batch.length < batchSize) {
      const item = source.read() as I | null;
      if (item === null) break;
      read += 1;
      const selected = select(item);
      if (selected !== undefined) batch.push(selected);
    }
    return { read, batch };
  };

  const run = async () => {
    try {
      while (!stopping && !failure) {
        const { read, batch } = take();
        const through = reach(batch, source.readableLength === 0);
        if (through !== undefined) {
          await handler(batch, through);
        } else if (read === 0) {
          if (source.readableEnded || source.destroyed) {
            failure ??= { error: new Error('The subscription ended without being stopped') };
          } else {
            await new Promise<void>((resolve) => (wake = resolve));
          }
        }
      }
    } catch (error) {
      failure ??= { error };
    }
    await release().catch(() => undefined);
    if (failure) onError(failure.error);
  };

  const done = run();
  return {
    done,
    stop() {
      stopping = true;
      notify();
      return done;
    },
    wake: notify,
  };
}
