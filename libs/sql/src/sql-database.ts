import { createHash } from 'node:crypto';

/**
 * The one SQL surface KCFlow needs, so the same statements run on a real PostgreSQL
 * server (`pg`) and on embedded PGlite. Parameters are positional ($1, $2, …).
 * Both give rows with the same JavaScript values: int8 and numeric as strings (they can
 * exceed Number.MAX_SAFE_INTEGER), json and jsonb parsed, timestamptz as Date.
 */
export interface SqlQueryable {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<Row[]>;
}

export interface QueryOptions {
  /**
   * The statement runs again and again with the same text (a store's append or stream read):
   * the server may keep it parsed and planned on each connection, so that only its
   * parameters travel and are bound the next time. Off for statements whose text varies.
   */
  reuse?: boolean;
}

export interface SqlDatabase extends SqlQueryable {
  /**
   * Runs `work` in one transaction: committed if it resolves, rolled back if it throws. If a
   * statement failed and `work` resolved all the same, PostgreSQL rolls back at COMMIT, and
   * this throws TransactionRolledBack: a caller never takes such a transaction for committed.
   */
  transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  readonly dialect: 'postgres' | 'pglite';
}

/** A schema name is spliced into SQL text, so only plain identifiers are accepted. */
export function quoteSchema(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(`Invalid schema name "${schema}": use lower-case letters, digits and _`);
  }
  return `"${schema}"`;
}

const statementNames = new Map<string, string>();

/**
 * The name under which a `reuse`d statement is prepared: a digest of its text, so one text
 * always has one name (a connection refuses a name reused for another text) and the names
 * stay as few as the texts.
 */
export function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = `kcflow_${createHash('sha256').update(sql).digest('hex').slice(0, 32)}`;
    statementNames.set(sql, name);
  }
  return name;
}

/** COMMIT found the transaction failed and rolled it back: a statement in it had failed. */
export class TransactionRolledBack extends Error {
  constructor() {
    super('The transaction was rolled back at COMMIT: a statement in it had failed');
    this.name = 'TransactionRolledBack';
  }
}
