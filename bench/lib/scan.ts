import { Client } from 'pg';
import { quoteSchema } from '@kcflow/sql';
import { env } from './env';

/** The floor of any replay: every row of the events table in commit order, keyset pages, rows parsed by pg. */
export async function plainScan(schema: string, page: number): Promise<{ events: number; seconds: number }> {
  const client = new Client({ connectionString: env.pgUrl });
  await client.connect();
  const started = process.hrtime.bigint();
  let events = 0;
  let after: [string, string] = ['0', '0'];
  try {
    for (;;) {
      const { rows } = await client.query<{ transaction_id: string; global_position: string }>(
        `SELECT stream_id, stream_revision, transaction_id, global_position, event_id, type, data, metadata, recorded_at
         FROM ${quoteSchema(schema)}.events WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
         ORDER BY transaction_id, global_position LIMIT ${page}`,
        after,
      );
      if (rows.length === 0) break;
      events += rows.length;
      const last = rows[rows.length - 1];
      after = [last.transaction_id, last.global_position];
    }
  } finally {
    await client.end();
  }
  return { events, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}
