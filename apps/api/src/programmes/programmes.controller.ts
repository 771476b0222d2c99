import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import { Access, Actor, CurrentActor } from '@kcflow/auth';
import { refuse } from '@kcflow/domain';
import { programmeBudget } from '@kcflow/read-models';
import { ChangeProgrammeCommand, GetHistoryQuery, GetProgrammeQuery, VerifyIntegrityQuery } from '@kcflow/workflow';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HistoryPageQueryDto } from '../applications/application.dtos';
import { commandContext, setETag } from '../http/command-context';
import { ReadSide } from '../read-side';
import { AllocateBudgetDto, OpenProgrammeDto, SetTargetsDto } from './programme.dtos';

@ApiTags('programmes')
@Controller('programmes')
export class ProgrammesController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly readSide: ReadSide,
  ) {}

  @Post()
  @Access('programmes.open')
  async open(
    @Body() body: OpenProgrammeDto,
    @CurrentActor() actor: Actor,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { id, ...data } = body;
    const answer = await this.commands.execute(
      new ChangeProgrammeCommand(id, { type: 'OpenProgramme', data: { programmeId: id, ...data } }, commandContext(request, actor, 'programmes.open')),
    );
    reply.header('Location', `/programmes/${id}`);
    setETag(reply, answer.revision);
    return answer;
  }

  @Post(':id/allocations')
  @HttpCode(200)
  @Access('programmes.manage')
  async allocate(
    @Param('id') id: string,
    @Body() body: AllocateBudgetDto,
    @CurrentActor() actor: Actor,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const answer = await this.commands.execute(
      new ChangeProgrammeCommand(id, { type: 'AllocateBudget', data: body }, commandContext(request, actor, 'programmes.manage')),
    );
    setETag(reply, answer.revision);
    return answer;
  }

  @Post(':id/targets')
  @HttpCode(200)
  @Access('programmes.manage')
  async setTargets(
    @Param('id') id: string,
    @Body() body: SetTargetsDto,
    @CurrentActor() actor: Actor,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const answer = await this.commands.execute(
      new ChangeProgrammeCommand(id, { type: 'SetTargets', data: body }, commandContext(request, actor, 'programmes.manage')),
    );
    setETag(reply, answer.revision);
    return answer;
  }

  @Get(':id')
  @Access('programmes.read')
  async get(@Param('id') id: string, @Res({ passthrough: true }) reply: FastifyReply) {
    const view = await this.queries.execute(new GetProgrammeQuery(id));
    setETag(reply, view.revision);
    return view;
  }

  @Get(':id/budget')
  @Access('programmes.budget')
  async budget(@Param('id') id: string) {
    const budget = await programmeBudget(this.readSide.db, this.readSide.schema, id);
    if (!budget) throw refuse.notFound(`Programme ${id} not found`);
    return budget;
  }

  @Get(':id/history')
  @Access('programmes.history')
  history(@Param('id') id: string, @Query() query: HistoryPageQueryDto) {
    const asOf = query.asOf ? new Date(query.asOf) : undefined;
    return this.queries.execute(new GetHistoryQuery('programme', id, asOf, query.revision, HistoryPageQueryDto.page(query)));
  }

  @Get(':id/integrity')
  @Access('programmes.integrity')
  integrity(@Param('id') id: string) {
    return this.queries.execute(new VerifyIntegrityQuery('programme', id));
  }
}
