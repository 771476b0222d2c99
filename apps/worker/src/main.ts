import { configOrExit, createLogger, infrastructureOrExit, startMessaging } from '@kcflow/runtime';
import { quoteSchema } from '@kcflow/sql';
import { BudgetLedger, BudgetReconciliation, CommandLoop, systemClock, TransitionApplicationHandler } from '@kcflow/workflow';

/**
 * The worker: projections into the read models, the budget reconciliation pass and, when
 * KAFKA_BROKERS is set, the Kafka relay and payment consumer, for
 * deployments where the api does not run them in-process. Any number of copies may run:
 * each projection runs in the copy holding its lease (PostgreSQL advisory lock), the others
 * take over within seconds when it dies. SIGTERM finishes the batch in hand and releases
 * the leases.
 */
async function main(): Promise<void> {
  const config = configOrExit();
  const logger = createLogger(config.logLevel, 'kcflow-worker');
  const infrastructure = await infrastructureOrExit(config, logger, 'KCFlow worker');
  const loop = new CommandLoop(infrastructure.store, systemClock, infrastructure.snapshots);
  const reconciliation = new BudgetReconciliation(infrastructure.store, loop, new BudgetLedger(loop), systemClock, config.reconcileGraceSeconds);

  await infrastructure.projections.start();
  infrastructure.messaging = await startMessaging(
    config.kafka,
    infrastructure,
    new TransitionApplicationHandler(loop, new BudgetLedger(loop)),
    logger.child({ component: 'kafka' }),
  );
  let pass: Promise<void> | undefined;
  // One pass at a time across all copies: a copy that cannot take the lease skips its turn.
  const reconcile = async () => {
    const lease = await infrastructure.leases?.tryAcquire('budget-reconciliation');
    if (infrastructure.leases && !lease) return;
    try {
      const rows = await infrastructure.readDb.query<{ id: string }>(`SELECT id FROM ${quoteSchema(infrastructure.readSchema)}.programmes`);
      for (const action of await reconciliation.reconcile(rows.map((r) => r.id))) {
        logger.warn({ reconciliation: action }, 'budget reconciliation repaired a commitment');
      }
    } finally {
      await lease?.release();
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
  logger.info({ eventStore: config.eventStore.kind, readModels: config.readModels.kind }, 'KCFlow worker running');

  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'stopping: finishing the batch in hand, then releasing the leases');
    clearInterval(timer);
    await pass;
    await infrastructure.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
