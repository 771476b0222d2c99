import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { AppConfig } from '@kcflow/config';
import { NestPinoLogger, type Infrastructure } from '@kcflow/runtime';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { AppModule } from './app.module';
import { useIdempotency } from './http/idempotency';
import { useStrictJsonBodies } from './http/json-body';
import { useRateLimit } from './http/rate-limit';
import { requestLogSummary } from './http/request-log';
import { createValidationPipe } from './http/validation';

/**
 * Builds the HTTP application on an already opened infrastructure; main.ts and the
 * end-to-end tests both start KCFlow through here, so the tests run the real thing.
 */
export async function createApp(config: AppConfig, infrastructure: Infrastructure, logger: Logger): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    loggerInstance: logger.child({ component: 'http' }, { serializers: { req: requestLogSummary } }),
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
  await useRateLimit(app, config.rateLimitPerMinute);
  useStrictJsonBodies(app, config.bodyLimitBytes);
  await useIdempotency(app);
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();

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
  await serveConsole(app, logger);
  return app;
}

/**
 * The web console (apps/console, built by `npm run build` into dist/console) under /console/,
 * with every other path below it answered by index.html for the console's own routes, and
 * `/` redirecting there. Plain Fastify routes, so no token is needed to load the page (the
 * console then calls the API with its bearer token). Not built: warn and serve the API only.
 */
async function serveConsole(app: NestFastifyApplication, logger: Logger): Promise<void> {
  // dist/apps/api/src → dist/console when built; apps/api/src → dist/console from sources.
  const root = [resolve(__dirname, '../../../console'), resolve(__dirname, '../../../dist/console')].find((dir) =>
    existsSync(resolve(dir, 'index.html')),
  );
  if (!root) {
    logger.warn('The web console is not built (no dist/console/index.html): /console/ is not served. Run `npm run build`.');
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/console/',
    wildcard: false,
    cacheControl: false,
    // Vite names assets by content hash: cache them for good; index.html must be revalidated.
    setHeaders: (reply, path) =>
      reply.header('Cache-Control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache'),
  });
  const fastify = app.getHttpAdapter().getInstance();
  fastify.get('/', (_request, reply) => reply.redirect('/console/', 302));
  fastify.get('/console', (_request, reply) => reply.redirect('/console/', 301));
  // A client route (no file extension) gets the page; a missing asset stays a 404.
  fastify.get('/console/*', (request, reply) =>
    /\.[A-Za-z0-9]+$/.test(request.url.split('?')[0]) ? reply.callNotFound() : reply.header('Cache-Control', 'no-cache').sendFile('index.html'),
  );
}
