/**
 * `npm run verify:read-models`: recomputes the budget and outcome figures from the events
 * (libs/read-models/src/verification) and compares them with the read models, each at its own
 * checkpoint. Prints the differences as a table; exits 1 if there is any. Works on the
 * configured store (the api's variables); on the embedded default the api must be stopped.
 */
import { formatDifferences, verifyReadModels } from '@kcflow/read-models';
import { Out, runAsProgram, withInfrastructure } from './support/maintenance';

export function verifyReadModelsCommand(env: NodeJS.ProcessEnv, out: Out): Promise<number> {
  return withInfrastructure(env, out, 'kcflow-verify-read-models', async (infrastructure) => {
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
  });
}

runAsProgram(module, 'verify:read-models', (out) => verifyReadModelsCommand(process.env, out));
