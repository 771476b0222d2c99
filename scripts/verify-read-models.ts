/**
 * `npm run verify:read-models`: recomputes the budget and outcome figures from the events
 * (libs/read-models/src/verification) and compares them with the read models, each at its own
 * checkpoint. Prints the differences as a table; exits 1 if there is any. Works on the
 * configured store (the api's variables); on the embedded default the api must be stopped.
 */
import 'reflect-metadata';
import { ConfigError, loadConfig } from '@kcflow/config';
import { formatDifferences, verifyReadModels } from '@kcflow/read-models';
import { createLogger, openInfrastructure } from '@kcflow/runtime';
import { embeddedStoreInUse } from './embedded-store-guard';

export async function verifyReadModelsCommand(env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<number> {
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
    return 2;
  }
  const infrastructure = await openInfrastructure(config, createLogger('warn', 'kcflow-verify-read-models'));
  try {
    const result = await verifyReadModels({ store: infrastructure.store, db: infrastructure.readDb, schema: infrastructure.readSchema });
    out(
      `Recomputed ${result.programmes} programme(s) from ${result.events} events ` +
        `(budget at ${result.budgetPosition ?? 'the start'}, outcomes at ${result.outcomesPosition ?? 'the start'}).`,
    );
    if (result.differences.length === 0) {
      out('The budget and outcome read models agree with the events.');
      return 0;
    }
    out(`${result.differences.length} difference(s) between the events and the read models:`);
    out(formatDifferences(result.differences));
    return 1;
  } finally {
    await infrastructure.close();
  }
}

if (require.main === module) {
  verifyReadModelsCommand(process.env, (line) => process.stdout.write(`${line}\n`)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`verify:read-models: ${(error as Error).message}\n`);
      process.exitCode = 2;
    },
  );
}
