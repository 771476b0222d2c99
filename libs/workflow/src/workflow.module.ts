import { DynamicModule, Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { EventStore } from '@kcflow/event-store/port';
import { ApproveApplicationHandler } from './applications/approve-application';
import { GetApplicationHandler } from './applications/get-application';
import { SubmitApplicationHandler } from './applications/submit-application';
import { TransitionApplicationHandler } from './applications/transition-application';
import { GetDossierHandler } from './audit/dossier';
import { GetHistoryHandler, VerifyIntegrityHandler } from './audit/history';
import { BudgetLedger } from './budget/budget-ledger';
import { BudgetReconciliation } from './budget/reconciliation';
import { ChangeProgrammeHandler, GetProgrammeHandler } from './programmes/programme-commands';
import { Clock, systemClock } from './shared/command-context';
import { CommandLoop } from './shared/command-loop';
import { CLOCK, EVENT_STORE, SNAPSHOT_STORE } from './shared/tokens';
import type { SnapshotStore } from './snapshots/snapshot-store';

export interface WorkflowOptions {
  store: EventStore;
  /** Where long streams' folded states are kept (snapshots/); without it every load folds the whole stream. */
  snapshots?: SnapshotStore;
  clock?: Clock;
  reconcileGraceSeconds: number;
}

/** The write side and the stream-backed queries, over whichever event store is given. */
@Module({})
export class WorkflowModule {
  static register(options: WorkflowOptions): DynamicModule {
    const clock = options.clock ?? systemClock;
    return {
      module: WorkflowModule,
      imports: [CqrsModule.forRoot()],
      providers: [
        { provide: EVENT_STORE, useValue: options.store },
        { provide: CLOCK, useValue: clock },
        ...(options.snapshots ? [{ provide: SNAPSHOT_STORE, useValue: options.snapshots }] : []),
        { provide: CommandLoop, useFactory: () => new CommandLoop(options.store, clock, options.snapshots) },
        { provide: BudgetLedger, useFactory: (loop: CommandLoop) => new BudgetLedger(loop), inject: [CommandLoop] },
        {
          provide: BudgetReconciliation,
          useFactory: (loop: CommandLoop, ledger: BudgetLedger) =>
            new BudgetReconciliation(options.store, loop, ledger, clock, options.reconcileGraceSeconds),
          inject: [CommandLoop, BudgetLedger],
        },
        SubmitApplicationHandler,
        ApproveApplicationHandler,
        TransitionApplicationHandler,
        GetApplicationHandler,
        ChangeProgrammeHandler,
        GetProgrammeHandler,
        GetHistoryHandler,
        VerifyIntegrityHandler,
        GetDossierHandler,
      ],
      exports: [EVENT_STORE, CLOCK, CommandLoop, BudgetLedger, BudgetReconciliation, CqrsModule],
    };
  }
}
