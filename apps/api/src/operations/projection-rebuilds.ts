import { refuse } from '@kcflow/domain';
import type { EventStore } from '@kcflow/event-store';
import { Projection, ProjectionRunner, rebuildProjections } from '@kcflow/read-models';
import type { SqlDatabase } from '@kcflow/sql';
import type { Logger } from 'pino';

export interface RebuildState {
  projection: string;
  state: 'running' | 'done' | 'failed';
  replayed: number;
  /** Events in the store when the rebuild started; null if the store cannot count. */
  total: number | null;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
}

export interface ProjectionRebuildsOptions {
  store: EventStore;
  db: SqlDatabase;
  schema: string;
  projections: readonly Projection[];
  runner: ProjectionRunner;
  /** Whether this process runs the projections, so it resumes one that a rebuild fixed. */
  projectionsInProcess: boolean;
  logger: Logger;
}

/**
 * `POST /projections/:name/rebuild`: the rebuild of `npm run projections:rebuild`, run inside
 * the api. On the embedded default (PGlite) it is the only way to rebuild while serving: no
 * second process may open the data folder. The request answers 202 at once; progress and
 * outcome show on `GET /projections`. The last rebuild of each projection is remembered until
 * the process ends.
 */
export class ProjectionRebuilds {
  private readonly states = new Map<string, RebuildState>();

  constructor(private readonly options: ProjectionRebuildsOptions) {}

  state(name: string): RebuildState | null {
    return this.states.get(name) ?? null;
  }

  start(name: string): RebuildState {
    const { projections, logger } = this.options;
    const projection = projections.find((p) => p.name === name);
    if (!projection) throw refuse.notFound(`No projection named ${name}; there are ${projections.map((p) => p.name).join(', ')}`);
    if (this.states.get(name)?.state === 'running') throw refuse.transition(`Projection ${name} is being rebuilt already`);

    const state: RebuildState = { projection: name, state: 'running', replayed: 0, total: null, startedAt: new Date().toISOString(), finishedAt: null, error: null };
    this.states.set(name, state);
    logger.info({ projection: name }, 'Projection rebuild started');
    void this.run(projection, state);
    return { ...state };
  }

  private async run(projection: Projection, state: RebuildState): Promise<void> {
    const { store, db, schema, runner, logger } = this.options;
    try {
      const [result] = await rebuildProjections({
        store,
        db,
        schema,
        projections: [projection],
        // Small reads and writes: on PGlite each holds the one connection the api's reads also
        // need. Small folds also keep the api's memory low.
        batchSize: 200,
        rowsPerWrite: 500,
        onProgress: (progress) => Object.assign(state, { replayed: progress.replayed, total: progress.total ?? null }),
      });
      Object.assign(state, { state: 'done', finishedAt: new Date().toISOString() });
      logger.info({ ...result }, 'Projection rebuilt and switched over');
    } catch (error) {
      Object.assign(state, { state: 'failed', finishedAt: new Date().toISOString(), error: error instanceof Error ? error.message : String(error) });
      logger.error({ projection: projection.name, err: error }, 'Projection rebuild failed; the live tables are unchanged');
      return;
    }
    // A projection stopped on a poison event, or by the checkpoint fencing because it lagged
    // at the switch (rebuild.ts), resumes from the rebuilt checkpoint: wait until the running
    // ones have caught up or stopped, then start those that are not running.
    if (this.options.projectionsInProcess) {
      await runner.waitUntilCaughtUp(30_000).catch(() => undefined);
      await runner.start().catch((error: unknown) => logger.error({ err: error }, 'Could not restart the projections after a rebuild'));
    }
  }
}
