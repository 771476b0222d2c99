import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import { Access, AccessRule, Actor, CurrentActor } from '@kcflow/auth';
import {
  ApproveApplicationCommand,
  CommandAnswer,
  Dossier,
  GetApplicationQuery,
  GetDossierQuery,
  GetHistoryQuery,
  SubmitApplicationCommand,
  Transition,
  TransitionApplicationCommand,
  VerifyIntegrityQuery,
} from '@kcflow/workflow';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { commandContext, setETag } from '../http/command-context';
import { listApplications } from '@kcflow/read-models';
import { ReadSide } from '../read-side';
import {
  AmendApplicationDto,
  ApproveApplicationDto,
  CloseApplicationDto,
  DisburseFundsDto,
  EvaluateOutcomeDto,
  HistoryPageQueryDto,
  HistoryQueryDto,
  ListApplicationsQueryDto,
  ReasonDto,
  RejectApplicationDto,
  ReviewApplicationDto,
  SubmitApplicationDto,
} from './application.dtos';
import { renderDossierHtml } from './dossier.html';

/** Routes of API.md's "Applications" and "Audit" sections; each is one command or query. */
@ApiTags('applications')
@Controller('applications')
export class ApplicationsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly readSide: ReadSide,
  ) {}

  @Post()
  @Access('applications.submit')
  async submit(
    @Body() body: SubmitApplicationDto,
    @CurrentActor() actor: Actor,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CommandAnswer> {
    const id = randomUUID();
    const context = commandContext(request, actor, 'applications.submit');
    const answer: CommandAnswer = await this.commands.execute(new SubmitApplicationCommand(id, body, context));
    reply.header('Location', `/applications/${id}`);
    setETag(reply, answer.revision);
    return answer;
  }

  @Get()
  @Access('applications.list')
  async find(@Query() query: ListApplicationsQueryDto, @CurrentActor() actor: Actor) {
    const ownerOnly = isApplicantOnly(actor);
    return listApplications(this.readSide.db, this.readSide.schema, { ...query, ownerId: ownerOnly ? actor.id : undefined });
  }

  @Get(':id')
  @Access('applications.read')
  async get(@Param('id') id: string, @CurrentActor() actor: Actor, @Res({ passthrough: true }) reply: FastifyReply) {
    const view = await this.queries.execute(new GetApplicationQuery(id, { actorId: actor.id, ownerOnly: isApplicantOnly(actor) }));
    setETag(reply, view.revision);
    return view;
  }

  @Post(':id/revision-requests') @HttpCode(200) @Access('applications.requestRevision')
  requestRevision(@Param('id') id: string, @Body() body: ReasonDto, @CurrentActor() a: Actor, @Req() rq: FastifyRequest, @Res({ passthrough: true }) rp: FastifyReply) {
    return this.transition(id, 'applications.requestRevision', { type: 'RequestRevision', actor: { id: a.id }, data: body }, a, rq, rp);
  }

  @Post(':id/amendments') @HttpCode(200) @Access('applications.amend')
  amend(@Param('id') id: string, @Body() body: AmendApplicationDto, @CurrentActor() a: Actor, @Req() rq: FastifyRequest, @Res({ passthrough: true }) rp: FastifyReply) {
    return this.transition(id, 'applications.amend', { type: 'AmendApplication', actor: { id: a.id }, data: body }, a, rq, rp);
  }

  @Post(':id/reviews') @HttpCode(200) @Access('applications.review')
  review(@Param('id') id: string, @Body() body: ReviewApplicationDto, @CurrentActor() a: Actor, @Req() rq: FastifyRequest, @Res({ passthrough: true }) rp: FastifyReply) {
    return this.transition(id, 'applications.review', { type: 'ReviewApplication', actor: { id: a.id }, data: body }, a, rq, rp);
  }

  @Post(':id/approval') @HttpCode(200) @Access('applications.approve')
  async approve(@Param('id') id: string, @Body() body: ApproveApplicationDto, @CurrentActor() a: Actor, @Req() rq: FastifyRequest, @Res({ passthrough: true }) rp: FastifyReply) {
    const answer: CommandAnswer = await this.commands.execute(
      new ApproveApplicationCommand(id, body, commandContext(rq, a, 'applications.approve')),
    );
    setETag(rp, answer.revision);
    return answer;
  }

  @Post(':id/rejection') @HttpCode(200) @Access('applications.reject')
  reject(@Param('id') id: string, @Body() body: RejectApplicationDto, @CurrentActor() a: Actor, @Req() rq: FastifyRequest, @Res({ passthrough: true }) rp: FastifyReply) {
    return this.transition(id, 'applications.reject', { type: 'RejectApplication', actor: { id: a.id }, data: body }, a, rq, rp);
  }

  @Post(':id/withdrawal') @HttpCode(200) @Access('applications.withdraw')
  withdraw(@Param('id') id: string, @Body() body: ReasonDto, @CurrentActor() a: Actor, @Req() rq: FastifyRequest, @Res({ passthrough: true }) rp: FastifyReply) {
    return this.transition(id, 'applications.withdraw', { type: 'WithdrawApplication', actor: { id: a.id }, data: body }, a, rq, rp);
  }

  @Post(':id/disbursements') @HttpCode(200) @Access('applications.disburse')
  disburse(@Param('id') id: string, @Body() body: DisburseFundsDto, @CurrentActor() a: Actor, @Req() rq: FastifyRequest, @Res({ passthrough: true }) rp: FastifyReply) {
    return this.transition(id, 'applications.disburse', { type: 'DisburseFunds', actor: { id: a.id }, data: body }, a, rq, rp);
  }

  @Post(':id/evaluation') @HttpCode(200) @Access('applications.evaluate')
  evaluate(@Param('id') id: string, @Body() body: EvaluateOutcomeDto, @CurrentActor() a: Actor, @Req() rq: FastifyRequest, @Res({ passthrough: true }) rp: FastifyReply) {
    return this.transition(id, 'applications.evaluate', { type: 'EvaluateOutcome', actor: { id: a.id }, data: body }, a, rq, rp);
  }

  @Post(':id/closure') @HttpCode(200) @Access('applications.close')
  close(@Param('id') id: string, @Body() body: CloseApplicationDto, @CurrentActor() a: Actor, @Req() rq: FastifyRequest, @Res({ passthrough: true }) rp: FastifyReply) {
    return this.transition(id, 'applications.close', { type: 'CloseApplication', actor: { id: a.id }, data: body }, a, rq, rp);
  }

  @Post(':id/recusals') @HttpCode(200) @Access('applications.recuse')
  recuse(@Param('id') id: string, @Body() body: ReasonDto, @CurrentActor() a: Actor, @Req() rq: FastifyRequest, @Res({ passthrough: true }) rp: FastifyReply) {
    return this.transition(id, 'applications.recuse', { type: 'RecuseReviewer', actor: { id: a.id }, data: body }, a, rq, rp);
  }

  @Get(':id/history')
  @Access('applications.history')
  history(@Param('id') id: string, @Query() query: HistoryPageQueryDto) {
    const asOf = query.asOf ? new Date(query.asOf) : undefined;
    return this.queries.execute(new GetHistoryQuery('application', id, asOf, query.revision, HistoryPageQueryDto.page(query)));
  }

  @Get(':id/integrity')
  @Access('applications.integrity')
  integrity(@Param('id') id: string) {
    return this.queries.execute(new VerifyIntegrityQuery('application', id));
  }

  /** One document for an inspector: JSON, or printable HTML for `Accept: text/html`. */
  @Get(':id/dossier')
  @Access('applications.dossier')
  async dossier(@Param('id') id: string, @Query() query: HistoryQueryDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const dossier: Dossier = await this.queries.execute(new GetDossierQuery(id, query.asOf ? new Date(query.asOf) : undefined, query.revision));
    reply.header('Vary', 'Accept');
    if (!(request.headers.accept ?? '').includes('text/html')) return dossier;
    // The page holds text typed by applicants: nothing in it may load or run anything.
    reply.header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
    reply.header('Content-Type', 'text/html; charset=utf-8');
    return renderDossierHtml(dossier);
  }

  private async transition(
    id: string,
    rule: AccessRule,
    command: Transition,
    actor: Actor,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<CommandAnswer> {
    const answer: CommandAnswer = await this.commands.execute(new TransitionApplicationCommand(id, command, commandContext(request, actor, rule)));
    setETag(reply, answer.revision);
    return answer;
  }
}

/** An applicant with no other role sees and acts on only its own applications. */
function isApplicantOnly(actor: Actor): boolean {
  return actor.roles.every((role) => role === 'applicant');
}
