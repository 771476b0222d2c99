/**
 * `npm run projections:rebuild -- <name|all>`: replays every event into fresh tables and
 * switches them in atomically (libs/read-models/src/rebuild.ts), while the api goes on serving
 * the old ones. Works on the configured store (the api's variables). On the embedded default
 * (PGlite) the api must be stopped first — or use `POST /projections/:name/rebuild` instead.
 */
import { ALL_PROJECTIONS, rebuildProjections } from '@kcflow/read-models';
import { Presets, SingleBar } from 'cli-progress';
import { Out, runAsProgram, withInfrastructure } from './support/maintenance';

const USAGE = `usage: npm run projections:rebuild -- <${ALL_PROJECTIONS.map((p) => p.name).join('|')}|all>`;

export async function projectionsRebuild(args: string[], env: NodeJS.ProcessEnv, out: Out, progressBar = true): Promise<number> {
  const [name, ...extra] = args;
  const projections = name === 'all' ? ALL_PROJECTIONS : ALL_PROJECTIONS.filter((p) => p.name === name);
  if (extra.length > 0 || projections.length === 0) {
    out(USAGE);
    return 2;
  }
  return withInfrastructure(env, out, 'kcflow-projections-rebuild', async (infrastructure, config) => {
    // No other process can run projections on an embedded store: nothing to wait for.
    const embedded = config.readModels.kind === 'pglite';
    // One pass over the events for all of them; each is switched over on its own.
    const bar = progressBar
      ? new SingleBar(
          { format: `${name.padEnd(12)} {bar} {percentage}% | {value}/{total} events | {speed} events/s | {duration_formatted}`, hideCursor: true },
          Presets.shades_classic,
        )
      : undefined;
    const started = Date.now();
    bar?.start(1, 0, { speed: 0 });
    const results = await rebuildProjections({
      store: infrastructure.store,
      db: infrastructure.readDb,
      schema: infrastructure.readSchema,
      projections,
      waitForRunnerMs: embedded ? 0 : undefined,
      onProgress: ({ replayed, total }) => {
        bar?.setTotal(Math.max(total ?? 0, replayed, 1));
        bar?.update(replayed, { speed: Math.round(replayed / Math.max((Date.now() - started) / 1000, 0.001)) });
      },
    }).finally(() => bar?.stop());
    for (const result of results) {
      out(`${result.projection}: ${result.events} events replayed in ${result.seconds.toFixed(1)} s; switched over at ${result.position ?? 'the start'}`);
    }
    return 0;
  });
}

runAsProgram(module, 'projections:rebuild', (out) => projectionsRebuild(process.argv.slice(2), process.env, out));
