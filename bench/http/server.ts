/**
 * The built api (dist/apps/api/src/main.js), unchanged, plus two routes that do nothing, for
 * the framework ceiling. They exist only in this benchmark process: AppModule.register is
 * wrapped before main.js loads, so createApp builds the very same application with one more
 * controller, going through the same Fastify hooks, helmet, global guard, interceptors and
 * filters as every real route.
 */
import 'reflect-metadata';
import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { Access, Public } from '@kcflow/auth';
import { AppModule } from '../../apps/api/src/app.module';

@Controller('bench')
class BenchCeilingController {
  /** The bare route: JSON body parsed, nothing done. */
  @Post('noop') @HttpCode(200) @Public()
  noop(@Body() _body: unknown): { ok: true } {
    return { ok: true };
  }

  /** The same behind the bearer-token check every command route pays for. */
  @Post('noop-authenticated') @HttpCode(200) @Access('applications.submit')
  noopAuthenticated(@Body() _body: unknown): { ok: true } {
    return { ok: true };
  }
}

const register = AppModule.register.bind(AppModule);
AppModule.register = (options) => {
  const module = register(options);
  return { ...module, controllers: [...(module.controllers ?? []), BenchCeilingController] };
};

// eslint-disable-next-line @typescript-eslint/no-require-imports
require('../../apps/api/src/main');
