import type { SqlDatabase } from '@kcflow/sql';

/** Where the read models live: the database and schema the projections write to. */
export class ReadSide {
  constructor(
    readonly db: SqlDatabase,
    readonly schema: string,
  ) {}
}
