/**
 * `npm run projections:rebuild -- <name|all>`: replays every event into fresh tables and
 * switches them in atomically (libs/read-models/src/rebuild.ts), while the api goes on serving
 * the old ones. Works on the configured store (the api's variables). On the embedded default
 * (PGlite) the api must be stopped first — or use `POST /projections/:name/rebuild` instead.
 */
import 'reflect-metadata';
import { ConfigError, loadConfig } from '@kcflow/config';
import { ALL_PROJECTIONS, rebuildProjection } from '@kcflow/read-models';
import { createLogger, openInfrastructure } from '@kcflow/runtime';
import { Presets, SingleBar } from 'cli-progress';
import { embeddedStoreInUse } from './embedded-store-guard';

const USAGE = `usage: npm run projections:rebuild -- <${ALL_PROJECTIONS.map((p) => p.name).join('|')}|all>`;

export async function projectionsRebuild(args: string[], env: NodeJS.ProcessEnv, out: (line: string) => void, progressBar = true): Promise<number> {
  const [name, ...extra] = args;
  const projections = name === 'all' ? ALL_PROJECTIONS : ALL_PROJECTIONS.filter((p) => p.name === name);
  if (extra.length > 0 || projections.length === 0) {
    out(USAGE);
    return 2;
  }
  let config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    out(error.message);
    return 78; // EX_CONFIG
  }
  const inUse = await embeddedStoreInUse(config);
  if (inUse) {
    out(inUse);
    return 1;
  }
  const infrastructure = await openInfrastructure(config, createLogger('warn', 'kcflow-projections-rebuild'));
  try {
    // No other process can run projections on an embedded store: nothing to wait for.
    const embedded = config.readModels.kind === 'pglite';
    for (const projection of projections) {
      const bar = progressBar
        ? new SingleBar(
            { format: `${projection.name.padEnd(12)} {bar} {percentage}% | {value}/{total} events | {speed} events/s | {duration_formatted}`, hideCursor: true },
            Presets.shades_classic,
          )
        : undefined;
      const started = Date.now();
      bar?.start(1, 0, { speed: 0 });
      const result = await rebuildProjection({
        store: infrastructure.store,
        db: infrastructure.readDb,
        schema: infrastructure.readSchema,
        projection,
        waitForRunnerMs: embedded ? 0 : undefined,
        onProgress: ({ replayed, total }) => {
          bar?.setTotal(Math.max(total ?? 0, replayed, 1));
          bar?.update(replayed, { speed: Math.round(replayed / Math.max((Date.now() - started) / 1000, 0.001)) });
        },
      }).finally(() => bar?.stop());
      out(`${projection.name}: ${result.events} events replayed in ${result.seconds.toFixed(1)} s; switched over at ${result.position ?? 'the start'}`);
    }
    return 0;
  } finally {
    await infrastructure.close();
  }
}

if (require.main === module) {
  projectionsRebuild(process.argv.slice(2), process.env, (line) => process.stdout.write(`${line}\n`)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`projections:rebuild: ${(error as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
