import { PassThrough } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { startBatchPump, type BatchPumpOptions } from './batch-pump';

/** A manually resolvable promise, to hold a handler open. */
function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

function setup(overrides: Partial<BatchPumpOptions<number, number, number>> = {}) {
  const source = new PassThrough({ objectMode: true, highWaterMark: 4 });
  const batches: number[][] = [];
  const errors: unknown[] = [];
  let released = 0;
  const pump = startBatchPump<number, number, number>({
    source,
    batchSize: 3,
    select: (n: number) => n,
    reach: (batch) => batch.at(-1),
    handler: async (batch) => {
      batches.push(batch);
    },
    onError: (error) => errors.push(error),
    release: async () => {
      released += 1;
    },
    ...overrides,
  });
  return { source, pump, batches, errors, released: () => released };
}

describe('startBatchPump', () => {
  it('delivers what is buffered in batches of at most batchSize, in order', async () => {
    const { source, pump, batches } = setup();
    [1, 2, 3, 4, 5].forEach((n) => source.write(n));
    await tick();
    expect(batches).toEqual([[1, 2, 3], [4, 5]]);
    source.write(6);
    await tick();
    expect(batches).toEqual([[1, 2, 3], [4, 5], [6]]);
    await pump.stop();
  });

  it('waits for the handler before the next batch, and reads nothing meanwhile', async () => {
    const hold = gate();
    const seen: number[][] = [];
    const { source, pump } = setup({
      handler: async (batch: number[]) => {
        seen.push(batch);
        if (seen.length === 1) await hold.promise;
      },
    });
    source.write(1);
    await tick();
    [2, 3, 4, 5, 6, 7].forEach((n) => source.write(n));
    await tick();
    expect(seen).toEqual([[1]]);
    // Nothing was taken: the readable side sits full at its highWaterMark and the rest
    // backs up into the writable side, the back-pressure a gRPC stream passes to the server.
    expect(source.readableLength).toBe(4);
    expect(source.writableLength).toBeGreaterThan(0);
    hold.open();
    await tick();
    await tick();
    expect(seen).toEqual([[1], [2, 3, 4], [5, 6, 7]]);
    await pump.stop();
  });

  it('drops what select drops, and never hands over an empty batch', async () => {
    const { source, pump, batches } = setup({ select: (n: number) => (n % 2 === 0 ? n : undefined) });
    [1, 3, 5, 2, 7, 4].forEach((n) => source.write(n));
    await tick();
    expect(batches).toEqual([[2, 4]]);
    await pump.stop();
  });

  it('hands over a batch, even an empty one, when reach says it reaches somewhere new, and asks again on wake', async () => {
    const delivered: [number[], number][] = [];
    let outOfBand: number | undefined;
    const { source, pump } = setup({
      select: (n: number) => (n % 2 === 0 ? n : undefined),
      reach: (batch) => {
        const through = outOfBand ?? batch.at(-1);
        outOfBand = undefined;
        return through;
      },
      handler: async (batch: number[], through: number) => void delivered.push([batch, through]),
    });
    [2, 3, 4, 5].forEach((n) => source.write(n));
    await tick();
    expect(delivered).toEqual([[[2, 4], 4]]);
    outOfBand = 9;
    pump.wake();
    await tick();
    expect(delivered).toEqual([[[2, 4], 4], [[], 9]]);
    await pump.stop();
  });

  it('tells reach whether the batch emptied the buffer', async () => {
    const asked: [number[], boolean][] = [];
    const { source, pump } = setup({
      reach: (batch, drained) => {
        if (batch.length > 0) asked.push([batch, drained]);
        return batch.at(-1);
      },
    });
    [1, 2, 3, 4].forEach((n) => source.write(n));
    await tick();
    expect(asked).toEqual([
      [[1, 2, 3], false],
      [[4], true],
    ]);
    await pump.stop();
  });

  it('stop waits for the batch in hand, delivers nothing after it and releases the source once', async () => {
    const hold = gate();
    const seen: number[][] = [];
    const { source, pump, errors, released } = setup({
      handler: async (batch: number[]) => {
        seen.push(batch);
        await hold.promise;
      },
    });
    source.write(1);
    await tick();
    source.write(2);
    let stopped = false;
    const stopping = pump.stop().then(() => (stopped = true));
    await tick();
    expect(stopped).toBe(false);
    hold.open();
    await stopping;
    expect(seen).toEqual([[1]]);
    expect(released()).toBe(1);
    expect(errors).toEqual([]);
    await pump.stop();
    expect(released()).toBe(1);
  });

  it('reports a handler failure once and stops', async () => {
    const failure = new Error('projection failed');
    const { source, pump, errors, released } = setup({
      handler: async () => {
        throw failure;
      },
    });
    source.write(1);
    source.write(2);
    await pump.done;
    expect(errors).toEqual([failure]);
    expect(released()).toBe(1);
  });

  it('reports a select failure (an unreadable event) once and stops', async () => {
    const failure = new Error('unreadable');
    const { source, pump, errors, batches } = setup({
      select: (n: number) => {
        if (n === 2) throw failure;
        return n;
      },
    });
    [1, 2, 3].forEach((n) => source.write(n));
    await pump.done;
    expect(batches).toEqual([]);
    expect(errors).toEqual([failure]);
  });

  it('reports a source failure once and stops', async () => {
    const failure = new Error('connection lost');
    const { source, pump, errors, released } = setup();
    source.destroy(failure);
    await pump.done;
    expect(errors).toEqual([failure]);
    expect(released()).toBe(1);
  });

  it('treats a source that ends on its own as a failure', async () => {
    const { source, pump, errors, batches } = setup();
    source.end(1);
    await pump.done;
    expect(batches).toEqual([[1]]);
    expect(errors).toEqual([new Error('The subscription ended without being stopped')]);
  });

  it('does not report errors the source raises after stop', async () => {
    const { source, pump, errors } = setup();
    await pump.stop();
    source.destroy(new Error('cancelled'));
    await tick();
    expect(errors).toEqual([]);
  });

  it('refuses a batch size below 1', () => {
    expect(() => setup({ batchSize: 0 })).toThrow(RangeError);
  });
});
