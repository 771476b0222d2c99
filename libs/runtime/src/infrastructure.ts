import type { AppConfig } from '@kcflow/config';
import { EsdbEventStore, EventStore, InMemoryEventStore, PostgresEventStore } from '@kcflow/event-store';
import { ALL_PROJECTIONS, ProjectionLogger, ProjectionRunner } from '@kcflow/read-models';
import { PgDatabase, PgliteDatabase, SqlDatabase } from '@kcflow/sql';
import { mkdirSync } from 'node:fs';

/**
 * The composition root's outer half, shared by the api, the worker and the scripts: opens
 * the event store and the read-model database that the configuration names.
 */
export interface Infrastructure {
  store: EventStore;
  readDb: SqlDatabase;
  readSchema: string;
  projections: ProjectionRunner;
  close(): Promise<void>;
}

export async function openInfrastructure(config: AppConfig, logger: ProjectionLogger): Promise<Infrastructure> {
  const owned: SqlDatabase[] = [];
  const databases = new Map<string, SqlDatabase>();
  // One connection pool (or one PGlite instance: a folder can be opened only once) per database.
  const database = async (key: string, open: () => Promise<SqlDatabase>) => {
    let db = databases.get(key);
    if (!db) {
      db = await open();
      databases.set(key, db);
      owned.push(db);
    }
    return db;
  };
  const pglite = (dataDir: string | undefined) =>
    database(`pglite:${dataDir ?? 'memory'}`, async () => {
      // DATA_DIR=memory:// keeps the database in memory (the tests' in-process instances).
      if (dataDir === 'memory://') return PgliteDatabase.open(undefined);
      if (dataDir) mkdirSync(dataDir, { recursive: true });
      return PgliteDatabase.open(dataDir);
    });
  const postgres = (url: string) => database(`postgres:${url}`, async () => new PgDatabase(url, 20));

  let store: EventStore;
  const es = config.eventStore;
  switch (es.kind) {
    case 'memory':
      store = new InMemoryEventStore();
      break;
    case 'pglite':
    case 'postgres': {
      const db = es.kind === 'pglite' ? await pglite(es.dataDir) : await postgres(es.url);
      const pgStore = new PostgresEventStore({ db, schema: es.schema });
      await pgStore.migrate();
      store = pgStore;
      break;
    }
    case 'esdb':
      store = await EsdbEventStore.connect(es.connectionString);
      break;
  }

  const rm = config.readModels;
  const readDb = rm.kind === 'pglite' ? await pglite(rm.dataDir) : await postgres(rm.url);
  const projections = new ProjectionRunner({ store, db: readDb, schema: rm.schema, projections: ALL_PROJECTIONS, logger });
  await projections.migrate();

  return {
    store,
    readDb,
    readSchema: rm.schema,
    projections,
    async close() {
      await projections.stop();
      await store.close();
      for (const db of owned.reverse()) await db.close();
    },
  };
}
