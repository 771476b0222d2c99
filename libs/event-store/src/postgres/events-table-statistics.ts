import type { SqlDatabase } from '@kcflow/sql';

/**
 * Planner statistics for the events table where no autovacuum keeps them: PGlite. Without
 * them the planner takes the table for tiny, and readAll far behind the head scans and sorts
 * every later row instead of walking the commit-order index (14 ms instead of 1.6 ms for a
 * page 4,000 events behind, and growing with the store, so that a catch-up costs the square
 * of its length). Analysed at start if it never was (PGlite keeps statistics with the data, so
 * a restart finds the last ones), then each time the table has doubled (and grown by at
 * least 1,000 events): the planner scales its estimates to the table's current size and reads
 * the index for values past the statistics' range, so a coarse refresh is enough, and each
 * analysis runs on PGlite's one connection, in the way of commands.
 */
export class EventsTableStatistics {
  private rows = 0;
  private appendedSince = 0;
  private analyzing?: Promise<void>;

  constructor(
    private readonly db: SqlDatabase,
    /** The quoted, schema-qualified name. */
    private readonly table: string,
  ) {}

  /** At start: the statistics an earlier run left, or new ones if there are none. */
  async load(): Promise<void> {
    const rows = await this.analysedRows();
    if (rows < 0) await this.analyze();
    else this.rows = rows;
  }

  private async analyze(): Promise<void> {
    this.appendedSince = 0;
    await this.db.query(`ANALYZE ${this.table}`);
    this.rows = Math.max(0, await this.analysedRows());
  }

  /** The rows the last analysis counted; -1 if the table was never analysed. */
  private async analysedRows(): Promise<number> {
    const [row] = await this.db.query<{ rows: number }>('SELECT reltuples::float8 AS rows FROM pg_class WHERE oid = $1::regclass', [this.table]);
    return Number(row?.rows ?? -1);
  }

  /** Counts appended events, and analyses in the background once enough have been. */
  appended(count: number): void {
    this.appendedSince += count;
    if (this.analyzing || this.appendedSince < Math.max(1_000, this.rows)) return;
    this.analyzing = this.analyze()
      // Statistics only steer plans: a failed analysis keeps the old ones until the next threshold.
      .catch(() => undefined)
      .finally(() => (this.analyzing = undefined));
  }

  /** Waits for an analysis under way, so that the database can be closed after it. */
  async settled(): Promise<void> {
    await this.analyzing;
  }
}
