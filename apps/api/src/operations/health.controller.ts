import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Public } from '@kcflow/auth';
import type { EventStore } from '@kcflow/event-store';
import { EVENT_STORE } from '@kcflow/workflow';
import { Inject } from '@nestjs/common';
import { ReadSide } from '../read-side';

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
  ) {}

  @Get('live')
  live() {
    return { status: 'up' };
  }

  /** Each dependency answers, or the instance should get no traffic (503). */
  @Get('ready')
  async ready() {
    const checks = {
      eventStore: await check(() => this.store.headPosition()),
      readModels: await check(() => this.readSide.db.query('SELECT 1')),
    };
    const up = Object.values(checks).every((c) => c.status === 'up');
    const body = { status: up ? 'up' : 'down', checks };
    if (!up) throw new ServiceUnavailableException(body);
    return body;
  }
}
