import { Client } from 'pg';
import { quoteSchema } from '@kcflow/sql';
import { env } from './env';

/** One short-lived connection for set-up and clean-up, apart from the pools being measured. */
export async function withAdmin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: env.pgUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function dropSchemas(schemas: readonly string[]): Promise<void> {
  if (env.keep || schemas.length === 0) return;
  await withAdmin(async (client) => {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${quoteSchema(schema)} CASCADE`);
  });
}

export interface ServerInfo {
  version: string;
  synchronousCommit: string;
  fsync: string;
  sharedBuffers: string;
  maxConnections: string;
}

export async function serverInfo(): Promise<ServerInfo> {
  return withAdmin(async (client) => {
    const show = async (name: string) => ((await client.query(`SHOW ${name}`)).rows[0] as Record<string, string>)[name];
    return {
      version: (await client.query<{ v: string }>('SELECT version() AS v')).rows[0].v,
      synchronousCommit: await show('synchronous_commit'),
      fsync: await show('fsync'),
      sharedBuffers: await show('shared_buffers'),
      maxConnections: await show('max_connections'),
    };
  });
}

/** A connection string whose sessions resolve unqualified names in `schema` (for Emmett, which has no schema option). */
export function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}
