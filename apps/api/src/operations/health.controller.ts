import { Controller, Get, Inject, Optional, ServiceUnavailableException } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Public } from '@kcflow/auth';
import type { EventStore } from '@kcflow/event-store';
import { ProjectionRunner, projectionLag } from '@kcflow/read-models';
import { INFRASTRUCTURE, type Infrastructure } from '@kcflow/runtime';
import { EVENT_STORE } from '@kcflow/workflow';
import { ReadSide } from '../read-side';

/** A projection whose oldest unapplied event is older than this is reported lagging. */
const LAG_LIMIT_SECONDS = 30;

type Check = { status: 'up' | 'down'; detail?: string };

async function check(probe: () => Promise<unknown>): Promise<Check> {
  try {
    await probe();
    return { status: 'up' };
  } catch (error) {
    return { status: 'down', detail: (error as Error).message };
  }
}

@ApiTags('operations')
@Controller('health')
@Public()
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly readSide: ReadSide,
    private readonly projections: ProjectionRunner,
    @Optional() @Inject(INFRASTRUCTURE) private readonly infrastructure?: Infrastructure,
  ) {}

  @Get('live')
  live() {
    return { status: 'up' };
  }

  /**
   * 503 when the event store or the read models do not answer: this instance should get no
   * traffic. Projections (whichever process runs them) and Kafka are reported, and make the
   * answer "degraded" rather than 503: commands and read-your-writes still work without them.
   */
  @Get('ready')
  async ready() {
    const probes = this.infrastructure?.readinessProbes ?? [];
    const [eventStore, readModels, projections, ...others] = await Promise.all([
      check(() => this.store.headPosition()),
      check(() => this.readSide.db.query('SELECT 1')),
      this.projectionsCheck(),
      ...probes.map((probe) => check(probe.check)),
    ]);
    const extra = Object.fromEntries(probes.map((probe, i) => [probe.name, others[i]]));
    const checks = { eventStore, readModels, projections, ...extra };
    const down = eventStore.status === 'down' || readModels.status === 'down';
    const degraded = Object.values(checks).some((c) => c.status !== 'up');
    const body = { status: down ? 'down' : degraded ? 'degraded' : 'up', checks };
    if (down) throw new ServiceUnavailableException(body);
    return body;
  }

  /** Failed (a handler stopped on an event), not running anywhere, or lagging by time. */
  private async projectionsCheck() {
    try {
      const projections = await Promise.all(
        (await this.projections.status()).map(async (p) => {
          const lagSeconds = Math.round((await projectionLag(this.store, p.position)).lagSeconds);
          const status = p.lastError ? 'failed' : !p.running ? 'stopped' : lagSeconds > LAG_LIMIT_SECONDS ? 'lagging' : 'up';
          return { name: p.name, status, lagSeconds, ...(p.heldBy !== undefined && { heldBy: p.heldBy }), ...(p.lastError && { lastError: p.lastError }) };
        }),
      );
      const bad = projections.filter((p) => p.status !== 'up');
      return {
        status: bad.length === 0 ? ('up' as const) : ('down' as const),
        ...(bad.length > 0 && { detail: bad.map((p) => `${p.name} ${p.status}`).join(', ') }),
        projections,
      };
    } catch (error) {
      return { status: 'down' as const, detail: (error as Error).message };
    }
  }
}
