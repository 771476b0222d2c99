/**
 * The SqlDatabase contract: the same statements give the same rows and the same failures on
 * a PostgreSQL server (`pg`) and on PGlite, whose adapter speaks the wire protocol itself.
 */
import { PgDatabase, SqlDatabase, quoteSchema } from '@kcflow/sql';
import { POSTGRES_URL, describeWithPglite, describeWithPostgres, uniqueSchema } from '../support/services';

function sqlDatabaseCases(database: () => SqlDatabase): void {
  let s: string;

  beforeEach(async () => {
    s = quoteSchema(uniqueSchema('sql'));
    await database().query(`CREATE SCHEMA ${s}`);
    await database().query(`CREATE TABLE ${s}.t (id bigserial PRIMARY KEY, name text NOT NULL UNIQUE, amount numeric, data jsonb, at timestamptz)`);
  });

  afterEach(() => database().query(`DROP SCHEMA ${s} CASCADE`));

  it('gives int8 and numeric as strings, jsonb parsed, timestamptz as a Date', async () => {
    const db = database();
    const at = new Date('2024-05-06T07:08:09.123Z');
    await db.query(`INSERT INTO ${s}.t (name, amount, data, at) VALUES ($1, $2, $3, $4)`, ['a', '12345678901234567890.5', { x: [1, 'ă'] }, at]);
    const [row] = await db.query(`SELECT id, name, amount, data, at, 9007199254740993::int8 AS big FROM ${s}.t`);
    expect(row).toEqual({ id: '1', name: 'a', amount: '12345678901234567890.5', data: { x: [1, 'ă'] }, at, big: '9007199254740993' });
  });

  it('takes arrays, nulls and undefined as parameters', async () => {
    const db = database();
    await db.query(
      `INSERT INTO ${s}.t (name, amount, data) SELECT * FROM unnest($1::text[], $2::numeric[], $3::jsonb[])`,
      [['a', 'b "quoted", {braced}'], [1, null], [JSON.stringify({ k: 1 }), null]],
    );
    const rows = await db.query(`SELECT name, amount, data FROM ${s}.t WHERE at IS NOT DISTINCT FROM $1 ORDER BY id`, [undefined]);
    expect(rows).toEqual([
      { name: 'a', amount: '1', data: { k: 1 } },
      { name: 'b "quoted", {braced}', amount: null, data: null },
    ]);
  });

  it('runs a reused statement again and again, and after its table was moved away and back', async () => {
    const db = database();
    const insert = `INSERT INTO ${s}.t (name) VALUES ($1) RETURNING id`;
    for (const name of ['a', 'b', 'c']) await db.query(insert, [name], { reuse: true });
    await db.query(`ALTER TABLE ${s}.t RENAME TO t_old`);
    await db.query(`CREATE TABLE ${s}.t (id bigserial PRIMARY KEY, name text NOT NULL UNIQUE, amount numeric, data jsonb, at timestamptz)`);
    expect(await db.query(insert, ['d'], { reuse: true })).toEqual([{ id: '1' }]);
    expect(await db.query(`SELECT count(*)::int AS n FROM ${s}.t_old`)).toEqual([{ n: 3 }]);
  });

  it('fails with the SQLSTATE code, and goes on after the failure', async () => {
    const db = database();
    await db.query(`INSERT INTO ${s}.t (name) VALUES ($1)`, ['a'], { reuse: true });
    await expect(db.query(`INSERT INTO ${s}.t (name) VALUES ($1)`, ['a'], { reuse: true })).rejects.toMatchObject({ code: '23505' });
    await expect(db.query(`SELECT nope FROM ${s}.t`)).rejects.toMatchObject({ code: '42703' });
    await expect(db.query(`SELECT nope FROM ${s}.t WHERE id = $1`, [1], { reuse: true })).rejects.toMatchObject({ code: '42703' });
    expect(await db.query(`SELECT name FROM ${s}.t`)).toEqual([{ name: 'a' }]);
  });

  it('runs a reused statement again after its first run failed', async () => {
    const db = database();
    const insert = `INSERT INTO ${s}.t (name) VALUES ($1)`;
    await db.query(`INSERT INTO ${s}.t (name) VALUES ('taken')`);
    await expect(db.query(insert, ['taken'], { reuse: true })).rejects.toMatchObject({ code: '23505' });
    await db.query(insert, ['free'], { reuse: true });
    expect(await db.query(`SELECT name FROM ${s}.t ORDER BY id`)).toEqual([{ name: 'taken' }, { name: 'free' }]);
  });

  it('commits a transaction that resolves, rolls back one that throws', async () => {
    const db = database();
    await db.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${s}.t (name) VALUES ($1)`, ['kept']);
      await tx.query(`INSERT INTO ${s}.t (name) VALUES ($1)`, ['also kept'], { reuse: true });
    });
    await expect(
      db.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${s}.t (name) VALUES ($1)`, ['gone']);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await db.query(`SELECT name FROM ${s}.t ORDER BY id`)).toEqual([{ name: 'kept' }, { name: 'also kept' }]);
  });

  it('does not commit a transaction whose work swallowed a failed statement', async () => {
    const db = database();
    await expect(
      db.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${s}.t (name) VALUES ($1)`, ['gone']);
        await tx.query(`INSERT INTO ${s}.t (name) VALUES ($1)`, [null]).catch(() => undefined);
      }),
    ).rejects.toThrow();
    expect(await db.query(`SELECT name FROM ${s}.t`)).toEqual([]);
  });
}

describeWithPostgres('SqlDatabase on a PostgreSQL server', () => {
  let db: PgDatabase;
  beforeAll(() => {
    db = new PgDatabase(POSTGRES_URL);
  });
  afterAll(() => db.close());
  sqlDatabaseCases(() => db);
});

describeWithPglite('SqlDatabase on PGlite', (db) => {
  sqlDatabaseCases(db);

  // pg queues such statements on the transaction's connection (and will refuse them in pg 9); PGlite
  // collects one answer at a time, so the adapter must send them one after the other.
  it('runs statements a transaction sends at once, each with its own answer', async () => {
    const database = db();
    const s = quoteSchema(uniqueSchema('sql'));
    await database.query(`CREATE SCHEMA ${s}`);
    await database.query(`CREATE TABLE ${s}.t (name text)`);
    const names = Array.from({ length: 20 }, (_, i) => `n${i}`);
    const answers = await database.transaction((tx) =>
      Promise.all(names.map((name) => tx.query<{ name: string }>(`INSERT INTO ${s}.t (name) VALUES ($1) RETURNING name`, [name], { reuse: true }))),
    );
    expect(answers.map(([row]) => row.name)).toEqual(names);
    await database.query(`DROP SCHEMA ${s} CASCADE`);
  });

  it('keeps a statement sent outside a transaction out of it', async () => {
    const database = db();
    const s = quoteSchema(uniqueSchema('sql'));
    await database.query(`CREATE SCHEMA ${s}`);
    await database.query(`CREATE TABLE ${s}.t (name text)`);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const transaction = database.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${s}.t VALUES ('inside')`);
      await held;
      throw new Error('rolled back');
    });
    const outside = database.query(`INSERT INTO ${s}.t VALUES ('outside')`);
    release();
    await expect(transaction).rejects.toThrow('rolled back');
    await outside;
    expect(await database.query(`SELECT name FROM ${s}.t`)).toEqual([{ name: 'outside' }]);
    await database.query(`DROP SCHEMA ${s} CASCADE`);
  });
});
