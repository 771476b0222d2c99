import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { BudgetReconciliation } from '@kcflow/workflow';
import type { Logger } from 'pino';
import { ReadSide } from '../read-side';
import { quoteSchema } from '@kcflow/sql';

/** Runs the budget reconciliation pass every RECONCILE_INTERVAL_SECONDS (0: never). */
@Injectable()
export class ReconciliationScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly reconciliation: BudgetReconciliation,
    private readonly readSide: ReadSide,
    private readonly intervalSeconds: number,
    private readonly logger: Logger,
  ) {}

  onApplicationBootstrap() {
    if (this.intervalSeconds > 0) {
      this.timer = setInterval(() => void this.runOnce(), this.intervalSeconds * 1000);
      this.timer.unref();
    }
  }

  async onApplicationShutdown() {
    clearInterval(this.timer);
    await this.running;
  }

  runOnce(): Promise<void> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<void> {
    try {
      const rows = await this.readSide.db.query<{ id: string }>(`SELECT id FROM ${quoteSchema(this.readSide.schema)}.programmes`);
      const actions = await this.reconciliation.reconcile(rows.map((r) => r.id));
      for (const action of actions) this.logger.warn({ reconciliation: action }, 'budget reconciliation repaired a commitment');
    } catch (error) {
      this.logger.error({ err: error }, 'budget reconciliation pass failed');
    }
  }
}
