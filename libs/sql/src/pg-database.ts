import { Pool, QueryConfig } from 'pg';
import { QueryOptions, SqlDatabase, SqlQueryable, TransactionRolledBack, statementName } from './sql-database';

/**
 * A statement `reuse`d is sent as a named prepared statement: PostgreSQL parses and plans it
 * once per connection instead of on every call, which on a busy server is a good part of a
 * short statement's cost.
 */
function statement(sql: string, params: readonly unknown[], options: QueryOptions | undefined): QueryConfig {
  if (!options?.reuse) return { text: sql, values: [...params] };
  return { name: statementName(sql), text: sql, values: [...params] };
}

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

  async query<Row = Record<string, unknown>>(sql: string, params: readonly unknown[] = [], options?: QueryOptions): Promise<Row[]> {
    const result = await this.pool.query(statement(sql, params, options));
    return result.rows as Row[];
  }

  async transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    // BEGIN, the work and COMMIT must all run on the same connection.
    const client = await this.pool.connect();
    const tx: SqlQueryable = {
      query: async <Row>(sql: string, params: readonly unknown[] = [], options?: QueryOptions) =>
        (await client.query(statement(sql, params, options))).rows as Row[],
    };
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(tx);
      const commit = await client.query('COMMIT');
      if (commit.command === 'ROLLBACK') throw new TransactionRolledBack();
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
