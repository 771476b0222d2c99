import { randomUUID } from 'node:crypto';
import {
  EventStore,
  ExpectedRevision,
  GlobalPosition,
  NewEvent,
  RecordedEvent,
  WrongExpectedRevisionError,
  comparePositions,
} from '../event-store.port';

/**
 * The one suite every EventStore adapter must pass. It knows nothing of any engine, and it
 * shares one store between its tests: each test writes to streams of its own (a random
 * tag) and looks only at those, so the store may hold other events before and between.
 */
export function describeEventStoreContract(
  name: string,
  factory: () => Promise<{ store: EventStore; teardown: () => Promise<void> }>,
): void {
  describe(`${name} meets the event store contract`, () => {
    let store: EventStore;
    let teardown: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      ({ store, teardown } = await factory());
    }, 60_000);

    afterAll(async () => {
      await teardown?.();
    });

    describe('append and readStream', () => {
      it('round-trips ids, types, data and metadata, with revisions from 0', async () => {
        const stream = `application-${randomUUID()}`;
        const submitted = newEvent('ApplicationSubmitted', {
          applicant: { name: 'Hợp tác xã mây tre đan Phú Vinh', district: 'Chương Mỹ', womenLed: true },
          category: 'advanced_equipment',
          totalCost: 1_250_000_000,
          requestedAmount: 300_000_000,
          items: [{ name: 'Máy chẻ nan tự động', quantity: 2 }],
          note: null,
        });
        submitted.metadata.actorName = 'Nguyễn Thị Hương';
        submitted.metadata.request = { ip: '10.0.0.7', headers: { 'accept-language': 'vi-VN' } };
        const reviewed = newEvent('ApplicationReviewed', {
          score: 87.5,
          recommendation: 'Đạt yêu cầu, đề nghị hỗ trợ',
        });

        const result = await store.append(stream, [submitted, reviewed], 'no_stream');

        const read = await store.readStream(stream);
        const written = read.map(({ id, type, data, metadata }) => ({ id, type, data, metadata }));
        expect(written).toEqual([submitted, reviewed]);
        expect(read.map((event) => [event.streamId, event.revision])).toEqual([
          [stream, 0],
          [stream, 1],
        ]);
        for (const event of read) {
          expect(event.recordedAt).toBeInstanceOf(Date);
          expect(Math.abs(event.recordedAt.getTime() - Date.now())).toBeLessThan(5 * 60_000);
        }
        expect(comparePositions(read[0].position, read[1].position)).toBeLessThan(0);
        expect(result).toEqual({ revision: 1, position: read[1].position });
      });

      // The SQL stores take the events as one JSON text: quoting inside it must survive as written.
      it('round-trips quotes, backslashes, braces and escapes in data and metadata', async () => {
        const stream = `application-${randomUUID()}`;
        const tricky = 'say "hi" \\ {a,b} [1] \'x\' \\" \n\t end, NULL, ưu tiên 🏭';
        const event = newEvent('ApplicationAmended', { note: tricky, items: [tricky, { [tricky]: tricky }], empty: '' });
        event.metadata.actorName = tricky;

        await store.append(stream, [event, newEvent('ApplicationAmended', { note: '"' })], 'no_stream');

        const [read, second] = await store.readStream(stream);
        expect({ id: read.id, type: read.type, data: read.data, metadata: read.metadata }).toEqual(event);
        expect(second.data).toEqual({ note: '"' });
      });

      it('continues the revisions of an existing stream', async () => {
        const stream = `application-${randomUUID()}`;
        await store.append(stream, newEvents(2), 'no_stream');
        const result = await store.append(stream, newEvents(3), 1);

        expect(result.revision).toBe(4);
        expect((await store.readStream(stream)).map((event) => event.revision)).toEqual([0, 1, 2, 3, 4]);
      });

      it('reads a stream that does not exist as empty', async () => {
        expect(await store.readStream(`application-${randomUUID()}`)).toEqual([]);
      });

      it('reads up to and including toRevision', async () => {
        const stream = `application-${randomUUID()}`;
        await store.append(stream, newEvents(5), 'no_stream');

        const revisions = async (toRevision: number) =>
          (await store.readStream(stream, { toRevision })).map((event) => event.revision);
        expect(await revisions(0)).toEqual([0]);
        expect(await revisions(2)).toEqual([0, 1, 2]);
        expect(await revisions(10)).toEqual([0, 1, 2, 3, 4]);
      });

      it('reads from fromRevision on, inclusive, alone or with toRevision', async () => {
        const stream = `application-${randomUUID()}`;
        await store.append(stream, newEvents(5), 'no_stream');

        const revisions = async (options: { fromRevision?: number; toRevision?: number }) =>
          (await store.readStream(stream, options)).map((event) => event.revision);
        expect(await revisions({ fromRevision: 0 })).toEqual([0, 1, 2, 3, 4]);
        expect(await revisions({ fromRevision: 3 })).toEqual([3, 4]);
        expect(await revisions({ fromRevision: 4, toRevision: 4 })).toEqual([4]);
        expect(await revisions({ fromRevision: 1, toRevision: 2 })).toEqual([1, 2]);
        expect(await revisions({ fromRevision: 2, toRevision: 10 })).toEqual([2, 3, 4]);
        expect(await revisions({ fromRevision: 5 })).toEqual([]);
        expect(await revisions({ fromRevision: 3, toRevision: 2 })).toEqual([]);
        expect(await store.readStream(`application-${randomUUID()}`, { fromRevision: 2 })).toEqual([]);
      });

      it('appending no events checks the expectation and writes nothing', async () => {
        const missing = `application-${randomUUID()}`;
        expect((await store.append(missing, [], 'no_stream')).revision).toBe(-1);
        expect(await store.readStream(missing)).toEqual([]);
        await store.append(missing, newEvents(1), 'no_stream');

        const existing = `application-${randomUUID()}`;
        await store.append(existing, newEvents(2), 'no_stream');
        const [, last] = await store.readStream(existing);
        expect(await store.append(existing, [], 1)).toEqual({ revision: 1, position: last.position });
        await expect(store.append(existing, [], 5)).rejects.toBeInstanceOf(WrongExpectedRevisionError);
        expect(await store.readStream(existing)).toHaveLength(2);
      });
    });

    describe('expected revision', () => {
      const cases: { when: string; existing: number; expected: ExpectedRevision; actual?: number | 'no_stream' }[] = [
        { when: 'any, on a new stream', existing: 0, expected: 'any' },
        { when: 'any, on an existing stream', existing: 2, expected: 'any' },
        { when: 'no_stream, on a new stream', existing: 0, expected: 'no_stream' },
        { when: 'no_stream, on an existing stream', existing: 2, expected: 'no_stream', actual: 1 },
        { when: 'stream_exists, on an existing stream', existing: 2, expected: 'stream_exists' },
        { when: 'stream_exists, on a new stream', existing: 0, expected: 'stream_exists', actual: 'no_stream' },
        { when: 'the exact last revision', existing: 3, expected: 2 },
        { when: 'a revision behind', existing: 3, expected: 1, actual: 2 },
        { when: 'a revision ahead', existing: 2, expected: 5, actual: 1 },
        { when: 'an exact revision, on a new stream', existing: 0, expected: 0, actual: 'no_stream' },
      ];

      it.each(cases)('$when', async ({ existing, expected, actual }) => {
        const stream = `application-${randomUUID()}`;
        if (existing > 0) await store.append(stream, newEvents(existing), 'no_stream');
        const attempt = store.append(stream, newEvents(2), expected);

        if (actual === undefined) {
          expect((await attempt).revision).toBe(existing + 1);
          expect(await store.readStream(stream)).toHaveLength(existing + 2);
        } else {
          const error = await attempt.then(
            () => undefined,
            (failure: unknown) => failure,
          );
          expect(error).toBeInstanceOf(WrongExpectedRevisionError);
          expect(error).toMatchObject({ streamId: stream, expected, actual });
          expect(await store.readStream(stream)).toHaveLength(existing);
        }
      });
    });

    describe('readAll and headPosition', () => {
      it('pages through the store from the start, keeping each stream in order', async () => {
        const tag = randomUUID();
        const appended: NewEvent[] = [];
        const append = async (stream: string, events: NewEvent[], expected: ExpectedRevision) => {
          await store.append(`${tag}-${stream}`, events, expected);
          appended.push(...events);
        };
        await append('a', newEvents(2), 'no_stream');
        await append('b', newEvents(1), 'no_stream');
        await append('a', newEvents(1), 1);
        await append('c', newEvents(3), 'no_stream');
        await append('b', newEvents(2), 0);

        let all: RecordedEvent[] = [];
        await eventually(async () => {
          all = await readEverything(store, undefined, 7);
          return ownedBy(tag, all).length === appended.length;
        });

        expectStrictlyIncreasing(all.map((event) => event.position));
        const mine = ownedBy(tag, all);
        // Appended one after another, so committed in that order.
        expect(mine.map((event) => event.id)).toEqual(appended.map((event) => event.id));
        for (const stream of ['a', 'b', 'c']) {
          const revisions = mine
            .filter((event) => event.streamId === `${tag}-${stream}`)
            .map((event) => event.revision);
          expect(revisions).toEqual(revisions.map((_, i) => i));
        }
      });

      it('reads strictly after a position, at most limit events', async () => {
        const tag = randomUUID();
        const start = await store.headPosition();
        const stream = `${tag}-a`;
        for (let i = 0; i < 5; i++) await store.append(stream, newEvents(1), 'any');
        const expected = await store.readStream(stream);
        await eventually(async () => ownedBy(tag, await store.readAll({ after: start, limit: 1000 })).length === 5);

        const page = await store.readAll({ after: start, limit: 2 });
        expect(page).toHaveLength(2);
        if (start) for (const event of page) expect(comparePositions(event.position, start)).toBeGreaterThan(0);

        const rest = ownedBy(tag, await store.readAll({ after: expected[2].position, limit: 1000 }));
        expect(rest.map((event) => event.id)).toEqual([expected[3].id, expected[4].id]);
      });

      it('headPosition reaches the position of the last append', async () => {
        const tag = randomUUID();
        const before = await store.headPosition();
        const result = await store.append(`${tag}-a`, newEvents(2), 'no_stream');

        let head: GlobalPosition | undefined;
        await eventually(async () => {
          head = await store.headPosition();
          return head !== undefined && comparePositions(head, result.position) >= 0;
        });
        if (before) expect(comparePositions(head!, before)).toBeGreaterThan(0);
        expect(ownedBy(tag, await store.readAll({ after: head, limit: 1000 }))).toEqual([]);
      });

      it('lastCommittedPosition reaches the last append at once, and headPosition never passes it', async () => {
        const result = await store.append(`${randomUUID()}-a`, newEvents(2), 'no_stream');

        const committed = await store.lastCommittedPosition();
        expect(committed).toBeDefined();
        expect(comparePositions(committed!, result.position)).toBeGreaterThanOrEqual(0);
        const head = await store.headPosition();
        if (head) expect(comparePositions(head, (await store.lastCommittedPosition())!)).toBeLessThanOrEqual(0);
      });

      it('reads only the streams of a streamPrefix, strictly after a position, at most limit events', async () => {
        const tag = randomUUID();
        const start = await store.headPosition();
        await store.append(`${tag}-a`, newEvents(2), 'no_stream');
        await store.append(`${randomUUID()}-other`, newEvents(3), 'no_stream');
        await store.append(`${tag}-b`, newEvents(1), 'no_stream');
        await store.append(`${tag}x-not-the-prefix`, newEvents(1), 'no_stream');
        const wanted = [...(await store.readStream(`${tag}-a`)), ...(await store.readStream(`${tag}-b`))];
        await eventually(async () => (await store.readAll({ after: start, limit: 100, streamPrefix: `${tag}-` })).length === 3);

        const all = await store.readAll({ after: start, limit: 100, streamPrefix: `${tag}-` });
        expect(all.map((event) => event.id)).toEqual(wanted.map((event) => event.id));
        const page = await store.readAll({ after: wanted[0].position, limit: 1, streamPrefix: `${tag}-` });
        expect(page.map((event) => event.id)).toEqual([wanted[1].id]);
      });

      it('countEvents, where the adapter offers it, counts what readAll returns after a position', async () => {
        if (!store.countEvents) return;
        const start = await store.headPosition();
        const result = await store.append(`${randomUUID()}-a`, newEvents(3), 'no_stream');
        await eventually(async () => comparePositions((await store.headPosition())!, result.position) >= 0);

        expect(await store.countEvents(start)).toBe((await store.readAll({ after: start, limit: 100_000 })).length);
        expect(await store.countEvents(start)).toBeGreaterThanOrEqual(3);
        expect(await store.countEvents(await store.headPosition())).toBe(0);
      });
    });

    describe('subscribeToAll', () => {
      it('catches up, then delivers new events as they are appended', async () => {
        const tag = randomUUID();
        const start = await store.headPosition();
        const first = newEvents(3);
        await store.append(`${tag}-a`, first, 'no_stream');

        const subscriber = subscribe(store, tag, start);
        await eventually(() => subscriber.mine.length === 3);
        const live = newEvents(2);
        await store.append(`${tag}-a`, live, 2);
        await eventually(() => subscriber.mine.length === 5);
        await subscriber.subscription.stop();

        expect(subscriber.mine.map((event) => event.id)).toEqual([...first, ...live].map((event) => event.id));
        expectStrictlyIncreasing(subscriber.positions);
        expect(subscriber.errors).toEqual([]);
      });

      it('resumes from a checkpoint without delivering anything twice', async () => {
        const tag = randomUUID();
        const start = await store.headPosition();
        await store.append(`${tag}-a`, newEvents(3), 'no_stream');
        const before = subscribe(store, tag, start);
        await eventually(() => before.mine.length === 3);
        await before.subscription.stop();
        const checkpoint = before.positions.at(-1);

        const later = newEvents(2);
        await store.append(`${tag}-a`, later, 2);
        const after = subscribe(store, tag, checkpoint);
        await eventually(() => after.mine.length === 2);
        await pause(300);
        await after.subscription.stop();

        expect(after.mine.map((event) => event.id)).toEqual(later.map((event) => event.id));
        expect(before.errors).toEqual([]);
        expect(after.errors).toEqual([]);
      });

      it('hands each batch over with the position it reaches: its last event, without a streamPrefix', async () => {
        const tag = randomUUID();
        const start = await store.headPosition();
        await store.append(`${tag}-a`, newEvents(3), 'no_stream');
        const batches: Array<{ last?: GlobalPosition; through: GlobalPosition }> = [];
        let mine = 0;
        const subscription = store.subscribeToAll({
          after: start,
          batchSize: 2,
          handler: async (events, through) => {
            batches.push({ last: events.at(-1)?.position, through });
            mine += ownedBy(tag, events).length;
          },
          onError: () => undefined,
        });
        await eventually(() => mine === 3);
        await subscription.stop();

        for (const batch of batches) expect(batch.through).toEqual(batch.last);
      });

      it('with a streamPrefix, delivers only those streams, and moves through past the others', async () => {
        const tag = randomUUID();
        const start = await store.headPosition();
        await store.append(`${tag}-a`, newEvents(2), 'no_stream');
        const mineBefore = await store.readStream(`${tag}-a`);
        // More than a filtering server scans between two checkpoints (EventStoreDB: 32 by default).
        const others = await store.append(`${randomUUID()}-other`, newEvents(100), 'no_stream');
        const seen: RecordedEvent[] = [];
        let through: GlobalPosition | undefined;
        const errors: unknown[] = [];
        const subscription = store.subscribeToAll({
          after: start,
          streamPrefix: `${tag}-`,
          handler: async (events, reached) => {
            seen.push(...events);
            through = reached;
          },
          onError: (error) => errors.push(error),
        });
        await eventually(() => seen.length === 2 && through !== undefined && comparePositions(through, mineBefore[1].position) > 0);
        await store.append(`${tag}-a`, newEvents(1), 1);
        await eventually(() => seen.length === 3);
        await subscription.stop();

        expect(seen.map((event) => event.id)).toEqual((await store.readStream(`${tag}-a`)).map((event) => event.id));
        expect(comparePositions(through!, others.position)).toBeGreaterThan(0);
        expect(errors).toEqual([]);
      });

      it('stop() lets the batch in hand finish, then delivers nothing more', async () => {
        const tag = randomUUID();
        const start = await store.headPosition();
        const inHandler = deferred();
        const release = deferred();
        const errors: unknown[] = [];
        let batches = 0;
        let finished = false;
        const subscription = store.subscribeToAll({
          after: start,
          handler: async (events) => {
            if (ownedBy(tag, events).length === 0) return;
            batches++;
            inHandler.resolve();
            await release.promise;
            finished = true;
          },
          onError: (error) => errors.push(error),
        });
        await store.append(`${tag}-a`, newEvents(1), 'no_stream');
        await inHandler.promise;

        let stopped = false;
        const stopping = subscription.stop().then(() => (stopped = true));
        await pause(100);
        expect(stopped).toBe(false);
        release.resolve();
        await stopping;
        expect(finished).toBe(true);

        await store.append(`${tag}-a`, newEvents(1), 0);
        await pause(300);
        expect(batches).toBe(1);
        expect(errors).toEqual([]);
      });

      it('reports a failing handler once to onError and stops', async () => {
        const tag = randomUUID();
        const start = await store.headPosition();
        const failure = new Error('projection failed');
        const errors: unknown[] = [];
        let calls = 0;
        const subscription = store.subscribeToAll({
          after: start,
          handler: async (events) => {
            if (ownedBy(tag, events).length === 0) return;
            calls++;
            throw failure;
          },
          onError: (error) => errors.push(error),
        });
        await store.append(`${tag}-a`, newEvents(1), 'no_stream');
        await eventually(() => errors.length > 0);
        await store.append(`${tag}-a`, newEvents(1), 0);
        await pause(300);

        expect(errors).toEqual([failure]);
        expect(calls).toBe(1);
        await subscription.stop();
      });
    });

    describe('under concurrency', () => {
      it('lets exactly one of many appends with the same expected revision win', async () => {
        const stream = `application-${randomUUID()}`;
        await store.append(stream, newEvents(1), 'no_stream');
        const attempts = Array.from({ length: 25 }, () => newEvents(1));

        const outcomes = await Promise.allSettled(attempts.map((events) => store.append(stream, events, 0)));

        const winners = outcomes.flatMap((outcome, i) => (outcome.status === 'fulfilled' ? [attempts[i][0].id] : []));
        const losers = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
        expect(winners).toHaveLength(1);
        for (const loser of losers) expect(loser).toBeInstanceOf(WrongExpectedRevisionError);
        expect((await store.readStream(stream)).map((event) => event.id).slice(1)).toEqual(winners);
      });

      it('lets exactly one of many appends to a new stream win with no_stream', async () => {
        const stream = `application-${randomUUID()}`;
        const attempts = Array.from({ length: 25 }, () => newEvents(2));

        const outcomes = await Promise.allSettled(attempts.map((events) => store.append(stream, events, 'no_stream')));

        const winners = outcomes.flatMap((outcome, i) => (outcome.status === 'fulfilled' ? [attempts[i]] : []));
        expect(winners).toHaveLength(1);
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(WrongExpectedRevisionError);
        }
        expect((await store.readStream(stream)).map((event) => event.id)).toEqual(winners[0].map((event) => event.id));
      });

      it('a subscriber sees every event of concurrent writers exactly once, each stream in order', async () => {
        const tag = randomUUID();
        const subscriber = subscribe(store, tag, await store.headPosition());
        const streams = Array.from({ length: 6 }, (_, i) => `${tag}-${i}`);
        const appended: NewEvent[] = [];
        for (const stream of streams) {
          const events = newEvents(1);
          await store.append(stream, events, 'no_stream');
          appended.push(...events);
        }

        // Each writer appends the way a command handler does: some blindly, some retrying on
        // a conflict after reading the stream again.
        const modes = ['any', 'stream_exists', 'exact'] as const;
        const appendAs = async (mode: (typeof modes)[number], stream: string, events: NewEvent[]) => {
          if (mode !== 'exact') return store.append(stream, events, mode);
          for (;;) {
            const current = await store.readStream(stream);
            try {
              return await store.append(stream, events, current.length - 1);
            } catch (error) {
              if (!(error instanceof WrongExpectedRevisionError)) throw error;
            }
          }
        };
        const writer = async () => {
          for (let i = 0; i < 50; i++) {
            const events = newEvents(1 + Math.floor(Math.random() * 3));
            await appendAs(modes[i % modes.length], streams[Math.floor(Math.random() * streams.length)], events);
            appended.push(...events);
            await pause(Math.random() * 3);
          }
        };
        await Promise.all(Array.from({ length: 8 }, writer));
        await eventually(() => subscriber.mine.length >= appended.length, 30_000);
        await pause(300);
        await subscriber.subscription.stop();

        expect(subscriber.errors).toEqual([]);
        expect(subscriber.mine).toHaveLength(appended.length);
        expect(new Set(subscriber.mine.map((event) => event.id))).toEqual(new Set(appended.map((event) => event.id)));
        expectStrictlyIncreasing(subscriber.positions);
        for (const stream of streams) {
          const seen = subscriber.mine.filter((event) => event.streamId === stream);
          expect(seen.map((event) => event.revision)).toEqual(seen.map((_, i) => i));
          expect(seen.map((event) => event.id)).toEqual((await store.readStream(stream)).map((event) => event.id));
        }
      }, 60_000);
    });
  });
}

function newEvent(type: string, data: Record<string, unknown>): NewEvent {
  return {
    id: randomUUID(),
    type,
    data,
    metadata: {
      actorId: 'officer-7',
      role: 'reviewer',
      correlationId: randomUUID(),
      causationId: randomUUID(),
      occurredAt: new Date().toISOString(),
      schemaVersion: 1,
    },
  };
}

function newEvents(count: number): NewEvent[] {
  return Array.from({ length: count }, (_, i) => newEvent('TestEventHappened', { i }));
}

/** The events of streams whose names start with `tag`: this test's own. */
function ownedBy(tag: string, events: RecordedEvent[]): RecordedEvent[] {
  return events.filter((event) => event.streamId.startsWith(tag));
}

async function readEverything(
  store: EventStore,
  after: GlobalPosition | undefined,
  limit: number,
): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  for (;;) {
    const page = await store.readAll({ after, limit });
    expect(page.length).toBeLessThanOrEqual(limit);
    if (page.length === 0) return all;
    all.push(...page);
    after = page[page.length - 1].position;
  }
}

/** Subscribes and keeps what it delivers: this test's events, every position, any error. */
function subscribe(store: EventStore, tag: string, after: GlobalPosition | undefined) {
  const mine: RecordedEvent[] = [];
  const positions: GlobalPosition[] = [];
  const errors: unknown[] = [];
  const subscription = store.subscribeToAll({
    after,
    handler: async (events) => {
      mine.push(...ownedBy(tag, events));
      positions.push(...events.map((event) => event.position));
    },
    onError: (error) => errors.push(error),
  });
  return { mine, positions, errors, subscription };
}

function expectStrictlyIncreasing(positions: GlobalPosition[]): void {
  for (let i = 1; i < positions.length; i++) {
    expect(comparePositions(positions[i - 1], positions[i])).toBeLessThan(0);
  }
}

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Condition not met within ${timeoutMs} ms`);
    await pause(20);
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
