import { Pool } from 'pg';
import { SqlDatabase, SqlQueryable } from './sql-database';

/** SqlDatabase on a real PostgreSQL server, through a `pg` connection pool. */
export class PgDatabase implements SqlDatabase {
  readonly dialect = 'postgres';
  private readonly pool: Pool;

  constructor(connectionString: string, poolSize = 10) {
    this.pool = new Pool({ connectionString, max: poolSize });
    // An idle connection that the server drops is discarded by the pool and the next query
    // opens a new one; without a listener, that error would crash the process.
    this.pool.on('error', (error) => process.emitWarning(error));
  }

  async query<Row = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    const result = await this.pool.query(sql, [...params]);
    return result.rows as Row[];
  }

  async transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    // BEGIN, the work and COMMIT must all run on the same connection.
    const client = await this.pool.connect();
    const tx: SqlQueryable = {
      query: async <Row>(sql: string, params: readonly unknown[] = []) =>
        (await client.query(sql, [...params])).rows as Row[],
    };
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(tx);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      broken = await client.query('ROLLBACK').then(
        () => undefined,
        (rollbackError: Error) => rollbackError,
      );
      throw error;
    } finally {
      // A connection that could not even roll back is unusable: release(error) destroys it.
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
