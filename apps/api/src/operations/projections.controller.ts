import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Access } from '@kcflow/auth';
import { ProjectionRunner } from '@kcflow/read-models';
import { EventStore, formatPosition } from '@kcflow/event-store';
import { EVENT_STORE } from '@kcflow/workflow';
import { Inject } from '@nestjs/common';

@ApiTags('operations')
@Controller('projections')
export class ProjectionsController {
  constructor(
    private readonly runner: ProjectionRunner,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  /** Each projection's checkpoint, progress and last error (whichever process runs it). */
  @Get()
  @Access('projections.read')
  async list() {
    const head = await this.store.headPosition();
    return { head: head ? formatPosition(head) : null, projections: await this.runner.status() };
  }
}
