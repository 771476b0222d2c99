import type { AppConfig } from '@kcflow/config';
import { EsdbEventStore, EventStore, InMemoryEventStore, PostgresEventStore } from '@kcflow/event-store';
import { ALL_PROJECTIONS, ProjectionLeases, ProjectionLogger, ProjectionRunner } from '@kcflow/read-models';
import { PgDatabase, PgliteDatabase, SqlDatabase } from '@kcflow/sql';
import { mkdirSync } from 'node:fs';
import { InMemorySnapshotStore, type SnapshotStore } from '@kcflow/workflow';
import { lockDataDir } from './data-dir-lock';
import { SqlSnapshotStore } from './sql-snapshot-store';
import type { Messaging } from './messaging';
import { AdvisoryLeases } from './advisory-leases';
import { ReadinessProbe, readinessProbes } from './readiness';

/**
 * The composition root's outer half, shared by the api, the worker and the scripts: opens
 * the event store and the read-model database that the configuration names.
 */
export interface Infrastructure {
  store: EventStore;
  /** Snapshots of long streams' folded state, beside the events (an optimisation: see libs/workflow/src/snapshots). */
  snapshots: SnapshotStore;
  readDb: SqlDatabase;
  readSchema: string;
  projections: ProjectionRunner;
  /** Leases on the read-model database (PostgreSQL); undefined on PGlite, where one process owns everything. */
  leases: ProjectionLeases | undefined;
  /** Dependencies beside the store and read models that readiness reports (Kafka when configured). */
  readinessProbes: ReadinessProbe[];
  /** Set once the process starts the Kafka relay and payment consumer (startMessaging). */
  messaging?: Messaging;
  close(): Promise<void>;
}

/** Injection token under which the api exposes its Infrastructure (health, metrics). */
export const INFRASTRUCTURE = Symbol('Infrastructure');

export async function openInfrastructure(config: AppConfig, logger: ProjectionLogger): Promise<Infrastructure> {
  const owned: SqlDatabase[] = [];
  const locks: (() => void)[] = [];
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
      if (!dataDir) return PgliteDatabase.open(undefined);
      mkdirSync(dataDir, { recursive: true });
      locks.push(lockDataDir(dataDir));
      return PgliteDatabase.open(dataDir);
    });
  const postgres = (url: string) => database(`postgres:${url}`, async () => new PgDatabase(url, 20));

  const es = config.eventStore;
  let snapshots: SnapshotStore | undefined;
  const openStore = async (): Promise<EventStore> => {
    switch (es.kind) {
      case 'memory':
        snapshots = new InMemorySnapshotStore();
        return new InMemoryEventStore();
      case 'pglite':
      case 'postgres': {
        const db = es.kind === 'pglite' ? await pglite(es.dataDir) : await postgres(es.url);
        const pgStore = new PostgresEventStore({ db, schema: es.schema });
        await pgStore.migrate();
        const sqlSnapshots = new SqlSnapshotStore(db, es.schema);
        await sqlSnapshots.migrate();
        snapshots = sqlSnapshots;
        return pgStore;
      }
      case 'esdb':
        return EsdbEventStore.connect(es.connectionString);
    }
  };

  const rm = config.readModels;
  let store: EventStore | undefined;
  try {
    store = await naming(STORE_VARIABLE[es.kind], 'the event store', openStore);
    const readDb = rm.kind === 'pglite' ? await pglite(rm.dataDir) : await postgres(rm.url);
    // Several api and worker processes may share a PostgreSQL read-model database: each
    // projection then runs in the one process holding its lease.
    const leases = rm.kind === 'postgres' ? new AdvisoryLeases({ url: rm.url, db: readDb, namespace: rm.schema }) : undefined;
    const projections = new ProjectionRunner({ store, db: readDb, schema: rm.schema, projections: ALL_PROJECTIONS, logger, leases });
    const readVariable = rm.kind === 'pglite' ? 'DATA_DIR' : es.kind === 'postgres' && es.url === rm.url ? 'EVENT_STORE_URL (READ_MODEL_URL unset)' : 'READ_MODEL_URL';
    await naming(readVariable, 'the read-model database', () => projections.migrate());
    if (!snapshots) {
      // EventStoreDB: the snapshots go to the read-model database, in its schema.
      const sqlSnapshots = new SqlSnapshotStore(readDb, rm.schema);
      await sqlSnapshots.migrate();
      snapshots = sqlSnapshots;
    }
    const opened = store;
    const infrastructure: Infrastructure = {
      store,
      snapshots,
      readDb,
      readSchema: rm.schema,
      projections,
      leases,
      readinessProbes: readinessProbes(config),
      async close() {
        await infrastructure.messaging?.stop();
        await projections.stop(); // releases the leases it holds
        await leases?.close();
        await opened.close();
        for (const db of owned.reverse()) await db.close();
        for (const release of locks) release();
      },
    };
    return infrastructure;
  } catch (error) {
    await store?.close().catch(() => undefined);
    for (const db of owned.reverse()) await db.close().catch(() => undefined);
    for (const release of locks) release();
    throw error;
  }
}

const STORE_VARIABLE = { memory: 'EVENT_STORE', pglite: 'DATA_DIR', postgres: 'EVENT_STORE_URL', esdb: 'ESDB_CONNECTION_STRING' } as const;

/** A database that does not answer at start-up: say which variable points at it. */
async function naming<T>(variable: string, what: string, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (error) {
    throw new Error(`Cannot open ${what} (check ${variable}): ${(error as Error).message}`, { cause: error });
  }
}
