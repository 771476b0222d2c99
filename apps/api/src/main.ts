import 'reflect-metadata';
import { CommandBus } from '@nestjs/cqrs';
import { configOrExit, createLogger, infrastructureOrExit, startMessaging } from '@kcflow/runtime';
import { createApp } from './create-app';

async function main(): Promise<void> {
  const config = configOrExit();
  const logger = createLogger(config.logLevel, 'kcflow-api');
  if (config.auth.usingDevSecret) {
    logger.warn(
      'AUTH_JWT_SECRET is not set: tokens are signed with the documented DEVELOPMENT secret. Anyone can mint tokens. Never run like this in production.',
    );
  }
  const infrastructure = await infrastructureOrExit(config, logger, 'KCFlow API');
  const app = await createApp(config, infrastructure, logger);
  if (config.projectionsInProcess) {
    // The embedded default is one process: projections, and Kafka when configured, run here.
    await infrastructure.projections.start();
    infrastructure.messaging = await startMessaging(config.kafka, infrastructure, app.get(CommandBus), logger.child({ component: 'kafka' }));
  }
  app.getHttpAdapter().getInstance().addHook('onClose', async () => infrastructure.close());
  await app.listen(config.port, config.host);
  logger.info(
    { port: config.port, eventStore: config.eventStore.kind, projectionsInProcess: config.projectionsInProcess },
    `KCFlow API listening on http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port} (docs at /docs)`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
