import type { ProjectionLease, ProjectionLeases } from '@kcflow/read-models';
import type { SqlDatabase } from '@kcflow/sql';
import { hostname } from 'node:os';
import { Client } from 'pg';

export interface AdvisoryLeasesOptions {
  /** The read-model database: the lease guards the tables there. */
  url: string;
  /** Queries that need no lease of their own (who holds what). */
  db: SqlDatabase;
  /** Keeps leases of different deployments sharing one database apart: the read-model schema. */
  namespace: string;
  pollIntervalMs?: number;
}

/** A connection of its own, and a promise that resolves when it breaks. */
interface Session {
  client: Client;
  broken: Promise<void>;
}

/**
 * Leases on PostgreSQL session-level advisory locks. Each lease is `pg_try_advisory_lock` on a
 * connection of its own, held for as long as that connection lives: when the holder dies
 * (SIGKILL, lost machine) the server ends its session and drops the lock, and another
 * process's next attempt takes it. A heartbeat on the connection notices a broken one
 * from this side, so a holder cut off from the database stops applying. A process that did
 * not get a lease keeps its connection for the next attempt.
 */
export class AdvisoryLeases implements ProjectionLeases {
  readonly pollIntervalMs: number;
  /** Shows in pg_stat_activity, and in GET /projections as `heldBy`. */
  readonly holderName = `kcflow ${hostname()} pid ${process.pid}`.slice(0, 63);
  private readonly waiting = new Map<string, Session>();

  constructor(private readonly options: AdvisoryLeasesOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? 3_000;
  }

  private key(name: string): string {
    return `kcflow:${this.options.namespace}:${name}`;
  }

  async tryAcquire(name: string): Promise<ProjectionLease | undefined> {
    const session = this.waiting.get(name) ?? (await this.connect());
    this.waiting.delete(name);
    const { client, broken } = session;
    const key = this.key(name);
    let acquired: boolean;
    try {
      acquired = (await client.query<{ acquired: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS acquired', [key])).rows[0].acquired;
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (!acquired) {
      this.waiting.set(name, session);
      void broken.then(() => this.waiting.get(name) === session && this.waiting.delete(name));
      return undefined;
    }
    const heartbeat = setInterval(() => {
      client.query('SELECT 1').catch(() => void client.end().catch(() => undefined));
    }, this.pollIntervalMs);
    heartbeat.unref();
    void broken.then(() => clearInterval(heartbeat));
    return {
      lost: broken,
      async release() {
        clearInterval(heartbeat);
        // Closing the session drops the lock anyway; the unlock says so at once.
        await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]).catch(() => undefined);
        await client.end().catch(() => undefined);
      },
    };
  }

  /** Advisory locks show in pg_locks as (classid, objid) = the key's high and low 32 bits. */
  async holders(names: readonly string[]): Promise<Map<string, string>> {
    const rows = await this.options.db.query<{ name: string; holder: string }>(
      `SELECT k.name, a.application_name AS holder
         FROM unnest($1::text[]) AS k(name)
         JOIN pg_locks l ON l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended($2 || k.name, 0)
         JOIN pg_stat_activity a ON a.pid = l.pid`,
      [names, this.key('')],
    );
    return new Map(rows.map((row) => [row.name, row.holder]));
  }

  /** Closes the connections kept for the next attempt (held leases are released by their holders). */
  async close(): Promise<void> {
    const sessions = [...this.waiting.values()];
    this.waiting.clear();
    await Promise.all(sessions.map(({ client }) => client.end().catch(() => undefined)));
  }

  private async connect(): Promise<Session> {
    const client = new Client({
      connectionString: this.options.url,
      application_name: this.holderName,
      keepAlive: true,
      query_timeout: this.pollIntervalMs * 2,
    });
    let markBroken!: () => void;
    const broken = new Promise<void>((resolve) => (markBroken = resolve));
    client.on('error', markBroken); // also keeps a broken connection from crashing the process
    client.on('end', markBroken);
    await client.connect();
    return { client, broken };
  }
}
