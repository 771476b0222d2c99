import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AuthModule } from '@kcflow/auth';
import type { AppConfig } from '@kcflow/config';
import { ALL_PROJECTIONS, ProjectionRunner } from '@kcflow/read-models';
import { INFRASTRUCTURE, type Infrastructure } from '@kcflow/runtime';
import { BudgetReconciliation, WorkflowModule } from '@kcflow/workflow';
import type { Logger } from 'pino';
import { ApplicationsController } from './applications/applications.controller';
import { IdempotencyStore } from './http/idempotency';
import { ProblemDetailsFilter } from './http/problem-details.filter';
import { DevTokensController } from './operations/dev-tokens.controller';
import { HealthController } from './operations/health.controller';
import { Metrics, MetricsController } from './operations/metrics';
import { ProjectionRebuilds } from './operations/projection-rebuilds';
import { ProjectionsController } from './operations/projections.controller';
import { ReconciliationScheduler } from './operations/reconciliation.scheduler';
import { ProgrammesController } from './programmes/programmes.controller';
import { ReadSide } from './read-side';
import { ReportsController } from './reports/reports.controller';

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
        WorkflowModule.register({ store: infrastructure.store, snapshots: infrastructure.snapshots, reconcileGraceSeconds: config.reconcileGraceSeconds }),
        AuthModule.forRoot({ ...config.auth, logger: logger.child({ component: 'auth' }) }),
      ],
      controllers: [
        ProgrammesController,
        ApplicationsController,
        HealthController,
        ProjectionsController,
        MetricsController,
        ReportsController,
        // Development only: absent (404) unless the documented development secret signs tokens.
        ...(config.auth.usingDevSecret ? [DevTokensController] : []),
      ],
      providers: [
        { provide: ReadSide, useValue: readSide },
        { provide: INFRASTRUCTURE, useValue: infrastructure },
        Metrics,
        { provide: ProjectionRunner, useValue: infrastructure.projections },
        { provide: IdempotencyStore, useValue: idempotency },
        {
          provide: ProjectionRebuilds,
          useValue: new ProjectionRebuilds({
            store: infrastructure.store,
            db: infrastructure.readDb,
            schema: infrastructure.readSchema,
            projections: ALL_PROJECTIONS,
            runner: infrastructure.projections,
            projectionsInProcess: config.projectionsInProcess,
            logger: logger.child({ component: 'projections' }),
          }),
        },
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
