import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { AppConfig } from '@kcflow/config';
import { NestPinoLogger, type Infrastructure } from '@kcflow/runtime';
import helmet from '@fastify/helmet';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { AppModule } from './app.module';
import { IdempotencyStore } from './http/idempotency';
import { createValidationPipe } from './http/validation';

/**
 * Builds the HTTP application on an already opened infrastructure; main.ts and the
 * end-to-end tests both start KCFlow through here, so the tests run the real thing.
 */
export async function createApp(config: AppConfig, infrastructure: Infrastructure, logger: Logger): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    loggerInstance: logger.child({ component: 'http' }),
    bodyLimit: config.bodyLimitBytes,
    genReqId: () => randomUUID(),
    // A prototype-polluting key in a body is refused, not silently copied.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register({ config, infrastructure, logger }), adapter, {
    logger: new NestPinoLogger(logger.child({ component: 'nest' })),
  });
  await app.register(helmet, { contentSecurityPolicy: false });
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();
  await app.get(IdempotencyStore).migrate();

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('KCFlow')
      .setDescription('Industrial-promotion (khuyến công) support applications: the HTTP contract of ../shared/API.md')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return app;
}
