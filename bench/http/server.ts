/**
 * The built api (dist/apps/api/src/main.js), unchanged, plus two routes that do nothing, for
 * the framework ceiling. They exist only in this benchmark process: AppModule.register is
 * wrapped before main.js loads, so createApp builds the very same application with one more
 * controller, going through the same Fastify hooks, helmet, global guard, interceptors and
 * filters as every real route.
 */
import 'reflect-metadata';
import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { Client } from 'pg';
import { Access, Public } from '@kcflow/auth';
import { PgliteDatabase, SqlQueryable } from '@kcflow/sql';
import { AppModule } from '../../apps/api/src/app.module';

// Statements sent to the database (pg's Client.query, which Pool.query also goes through), so the
// benchmark can report statements per command; an increment per query, nothing more.
let statements = 0;
const query = Client.prototype.query;
Client.prototype.query = function (this: Client, ...args: unknown[]) {
  statements += 1;
  return (query as (...a: unknown[]) => unknown).apply(this, args);
} as typeof Client.prototype.query;
// The same on the embedded database, where the api's projections also run: BEGIN and COMMIT count too.
const pgliteQuery = PgliteDatabase.prototype.query;
PgliteDatabase.prototype.query = function (this: PgliteDatabase, ...args: Parameters<typeof pgliteQuery>) {
  statements += 1;
  return pgliteQuery.apply(this, args);
} as typeof pgliteQuery;
const pgliteTransaction = PgliteDatabase.prototype.transaction;
PgliteDatabase.prototype.transaction = function <T>(this: PgliteDatabase, work: (tx: SqlQueryable) => Promise<T>): Promise<T> {
  statements += 2;
  return pgliteTransaction.call(this, (tx) =>
    work({
      query: (sql, params, options) => {
        statements += 1;
        return tx.query(sql, params, options);
      },
    }),
  ) as Promise<T>;
};

@Controller('bench')
class BenchCeilingController {
  @Get('statements') @Public()
  statements(): { statements: number } {
    return { statements };
  }

  /**
   * Where the resident memory is: V8 heap, or outside it (buffers, native allocations). With
   * ?gc=1 and node --expose-gc, after a full collection: what is retained, not garbage.
   */
  @Get('memory') @Public()
  memory(@Query('gc') gc?: string): NodeJS.MemoryUsage {
    const collect = (globalThis as { gc?: () => void }).gc;
    if (gc === '1' && collect) collect();
    return process.memoryUsage();
  }

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
