import { Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Access } from '@kcflow/auth';
import { ProjectionRunner, projectionLag } from '@kcflow/read-models';
import { EventStore, formatPosition } from '@kcflow/event-store';
import { EVENT_STORE } from '@kcflow/workflow';
import { ValidationFailedException } from '../http/validation';
import { ProjectionRebuilds } from './projection-rebuilds';

@ApiTags('operations')
@Controller('projections')
export class ProjectionsController {
  constructor(
    private readonly runner: ProjectionRunner,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly rebuilds: ProjectionRebuilds,
  ) {}

  /**
   * Each projection's checkpoint, progress, lag (events after the checkpoint, and the age of
   * the oldest of them) and last error, whichever process runs it; and its last rebuild here.
   */
  @Get()
  @Access('projections.read')
  async list() {
    const head = await this.store.headPosition();
    const now = new Date();
    const projections = await Promise.all(
      (await this.runner.status()).map(async (status) => ({
        ...status,
        ...(await projectionLag(this.store, status.position, now)),
        rebuild: this.rebuilds.state(status.name),
      })),
    );
    return { head: head ? formatPosition(head) : null, projections };
  }

  /** Rebuilds the projection from the first event into fresh tables and switches over; 202, progress on GET. */
  @Post(':name/rebuild')
  @HttpCode(202)
  @Access('projections.rebuild')
  rebuild(@Param('name') name: string, @Body() body: unknown) {
    // No fields: an empty body or none. Anything else is refused, as every command's unknown fields are.
    const fields = body && typeof body === 'object' ? Object.keys(body) : [];
    if (fields.length > 0) throw new ValidationFailedException(fields.map((field) => ({ field, message: `${field} is not an accepted field` })));
    return this.rebuilds.start(name);
  }
}
