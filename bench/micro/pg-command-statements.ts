/**
 * `node dist/bench/micro/pg-command-statements.js [seconds]`: what the PostgreSQL store's
 * statements of a command cost in CPU, this process and the server apart, at the HTTP
 * benchmark's concurrency (32 callers on the api's pool of 20):
 * - append: one event of a submission's size to a stream of its own, with its expected revision;
 * - read: a two-event application stream, whole (as a command reads a stream from the start);
 * - read from the last: the same stream from its last revision on (as a held head is checked);
 * - the floor: the same row by a plain one-row INSERT.
 * Evidence for RESULTS.md ("The PostgreSQL command path"); not part of `npm run bench`. Run it
 * under the benchmark lock; MICRO_ASYNC_COMMIT=1 also shows the append without the WAL flush.
 */
import { randomUUID } from 'node:crypto';
import { PostgresEventStore } from '@kcflow/event-store';
import { PgDatabase } from '@kcflow/sql';
import { postgresCpuMs, processCpuMs } from '../lib/cpu';
import { env, uniqueName } from '../lib/env';
import { dropSchemas } from '../lib/pg';

const CALLERS = 32;

function event(i: number) {
  const data = {
    applicationId: `A-${i}`,
    applicant: { name: `Hợp tác xã mây tre đan số ${i}`, kind: 'cooperative', district: 'Chương Mỹ', craftVillage: 'Phú Vinh', womenLed: i % 2 === 0 },
    project: { title: 'Đầu tư máy chẻ nan tự động và dây chuyền sơn', totalCost: 900_000_000, requestedAmount: 270_000_000, jobsCreated: 12, description: 'x'.repeat(400) },
    programme: { programmeId: 'P-1', category: 'advanced_equipment', cap: { maxShareOfCost: 0.5, maxAmount: 300_000_000 }, advanceShare: 0.7, categoryFunded: true },
  };
  const metadata = {
    actorId: 'bench-applicant', role: 'applicant', correlationId: randomUUID(), causationId: randomUUID(),
    occurredAt: new Date().toISOString(), schemaVersion: 1, prevHash: 'a'.repeat(64), hash: 'b'.repeat(64),
  };
  return { id: randomUUID(), type: 'ApplicationSubmitted', data, metadata };
}

async function measure(name: string, seconds: number, op: (caller: number, n: number) => Promise<unknown>): Promise<void> {
  let done = 0;
  const node0 = processCpuMs(process.pid);
  const pg0 = postgresCpuMs();
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CALLERS }, async (_, caller) => {
      for (let n = 0; Date.now() - started < seconds * 1_000; n++) {
        await op(caller, n);
        done++;
      }
    }),
  );
  const wall = (Date.now() - started) / 1_000;
  const per = (ms: number) => ((ms / done) * 1_000).toFixed(0);
  console.log(`${name}: ${Math.round(done / wall)}/s; CPU per operation: node ${per(processCpuMs(process.pid) - node0)} µs, PostgreSQL ${per(postgresCpuMs() - pg0)} µs`);
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 8);
  const schema = uniqueName('micro_cmd');
  const db = new PgDatabase(env.pgUrl, 20);
  const store = new PostgresEventStore({ db, schema });
  try {
    await store.migrate();
    // Two-event streams to read, one per caller and round.
    const readable = Array.from({ length: 256 }, (_, i) => `application-R${i}`);
    for (const stream of readable) await store.append(stream, [event(0), event(1)], 'no_stream');
    const revisions = new Map<string, number>();
    const append = (caller: number, n: number) => {
      const stream = `application-W${caller}-${n % 64}`;
      const expected = revisions.get(stream);
      return store.append(stream, [event(n)], expected ?? 'no_stream').then((r) => revisions.set(stream, r.revision));
    };
    await measure('warm-up', 2, append);
    await measure('append (1 event)', seconds, append);
    await measure('read whole stream (2 events)', seconds, (caller, n) => store.readStream(readable[(caller * 7 + n) % readable.length]));
    await measure('read from last revision (1 event)', seconds, (caller, n) => store.readStream(readable[(caller * 7 + n) % readable.length], { fromRevision: 1 }));
    await measure('append (1 event), again', seconds, append);
    // The floor: the same row by a plain INSERT, no lock, no check, no function.
    let next = 1_000_000;
    await measure('floor: plain INSERT of the same row', seconds, (_caller, n) => {
      const e = event(n);
      return db.query(
        `INSERT INTO ${schema}.events (stream_id, stream_revision, event_id, type, data, metadata) VALUES ($1, $2, $3, $4, $5, $6)`,
        [`application-F${next++}`, 0, e.id, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata)],
        { reuse: true },
      );
    });
    if (process.env.MICRO_ASYNC_COMMIT === '1') {
      // How much of an append is the WAL flush at commit (not how KCFlow runs: it keeps synchronous_commit on).
      await Promise.all(Array.from({ length: 20 }, () => db.query('SET synchronous_commit = off')));
      await measure('append (1 event), synchronous_commit off (some connections)', seconds, append);
    }
  } finally {
    await store.close();
    await db.close();
    await dropSchemas([schema]);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
