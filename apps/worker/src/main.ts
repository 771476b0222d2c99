import { ConfigError, loadConfig } from '@kcflow/config';
import { createLogger, openInfrastructure } from '@kcflow/runtime';
import { quoteSchema } from '@kcflow/sql';
import { BudgetLedger, BudgetReconciliation, CommandLoop, systemClock } from '@kcflow/workflow';

/**
 * The worker: projections into the read models, and the budget reconciliation pass, for
 * deployments where the api does not run them in-process. SIGTERM finishes the batch in hand.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel, 'kcflow-worker');
  const infrastructure = await openInfrastructure(config, logger.child({ component: 'projections' }));
  const loop = new CommandLoop(infrastructure.store, systemClock);
  const reconciliation = new BudgetReconciliation(infrastructure.store, loop, new BudgetLedger(loop), systemClock, config.reconcileGraceSeconds);

  await infrastructure.projections.start();
  let pass: Promise<void> | undefined;
  const reconcile = async () => {
    const rows = await infrastructure.readDb.query<{ id: string }>(`SELECT id FROM ${quoteSchema(infrastructure.readSchema)}.programmes`);
    for (const action of await reconciliation.reconcile(rows.map((r) => r.id))) {
      logger.warn({ reconciliation: action }, 'budget reconciliation repaired a commitment');
    }
  };
  const timer =
    config.reconcileIntervalSeconds > 0
      ? setInterval(() => {
          pass ??= reconcile()
            .catch((error) => logger.error({ err: error }, 'budget reconciliation pass failed'))
            .finally(() => (pass = undefined));
        }, config.reconcileIntervalSeconds * 1000)
      : undefined;
  logger.info({ eventStore: config.eventStore.kind }, 'KCFlow worker running');

  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'stopping: finishing the batch in hand');
    clearInterval(timer);
    await pass;
    await infrastructure.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
