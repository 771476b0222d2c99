import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR } from '@nestjs/core';
import { AuthModule } from '@kcflow/auth';
import type { AppConfig } from '@kcflow/config';
import { ProjectionRunner } from '@kcflow/read-models';
import type { Infrastructure } from '@kcflow/runtime';
import { BudgetReconciliation, WorkflowModule } from '@kcflow/workflow';
import type { Logger } from 'pino';
import { ApplicationsController } from './applications/applications.controller';
import { IdempotencyInterceptor, IdempotencyStore } from './http/idempotency';
import { ProblemDetailsFilter } from './http/problem-details.filter';
import { HealthController } from './operations/health.controller';
import { ProjectionsController } from './operations/projections.controller';
import { ReconciliationScheduler } from './operations/reconciliation.scheduler';
import { ProgrammesController } from './programmes/programmes.controller';
import { ReadSide } from './read-side';

export interface AppModuleOptions {
  config: AppConfig;
  infrastructure: Infrastructure;
  logger: Logger;
}

@Module({})
export class AppModule {
  static register({ config, infrastructure, logger }: AppModuleOptions): DynamicModule {
    const readSide = new ReadSide(infrastructure.readDb, infrastructure.readSchema);
    const idempotency = new IdempotencyStore(infrastructure.readDb, infrastructure.readSchema, config.idempotencyTtlHours);
    return {
      module: AppModule,
      imports: [
        WorkflowModule.register({ store: infrastructure.store, reconcileGraceSeconds: config.reconcileGraceSeconds }),
        AuthModule.forRoot({ ...config.auth, logger: logger.child({ component: 'auth' }) }),
      ],
      controllers: [ProgrammesController, ApplicationsController, HealthController, ProjectionsController],
      providers: [
        { provide: ReadSide, useValue: readSide },
        { provide: ProjectionRunner, useValue: infrastructure.projections },
        { provide: IdempotencyStore, useValue: idempotency },
        { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
        { provide: APP_FILTER, useFactory: () => new ProblemDetailsFilter(logger.child({ component: 'http' })) },
        {
          provide: ReconciliationScheduler,
          useFactory: (reconciliation: BudgetReconciliation) =>
            new ReconciliationScheduler(
              reconciliation,
              readSide,
              config.projectionsInProcess ? config.reconcileIntervalSeconds : 0,
              logger.child({ component: 'reconciliation' }),
            ),
          inject: [BudgetReconciliation],
        },
      ],
    };
  }
}
