import { PGlite, types } from '@electric-sql/pglite';
import { QueryOptions, SqlDatabase, SqlQueryable } from './sql-database';

/**
 * SqlDatabase on embedded PGlite: PostgreSQL compiled to WebAssembly, running in this
 * process with its data in a local folder. PGlite has a single connection, so statements
 * and transactions run one at a time.
 */
export class PgliteDatabase implements SqlDatabase {
  readonly dialect = 'pglite';

  private constructor(private readonly pglite: PGlite) {}

  /**
   * Opens (or, on first use, initialises: several seconds) the database in `dataDir`;
   * `undefined` keeps it in memory.
   */
  static async open(dataDir: string | undefined): Promise<PgliteDatabase> {
    // PGlite turns int8 into a number or a bigint depending on its size, where `pg` gives
    // a string; return the string here too, so both databases give the same rows.
    const pglite = await PGlite.create({ dataDir, parsers: { [types.INT8]: (value: string) => value } });
    return new PgliteDatabase(pglite);
  }

  /** `options.reuse` changes nothing here: PGlite parses every statement anyway. */
  async query<Row = Record<string, unknown>>(sql: string, params: readonly unknown[] = [], _options?: QueryOptions): Promise<Row[]> {
    return (await this.pglite.query<Row>(sql, [...params])).rows;
  }

  transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    return this.pglite.transaction((tx) =>
      work({
        query: async <Row>(sql: string, params: readonly unknown[] = []) => (await tx.query<Row>(sql, [...params])).rows,
      }),
    );
  }

  async close(): Promise<void> {
    await this.pglite.close();
  }
}

