import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Type } from 'class-transformer';
import { IsArray, IsInt, IsNotEmpty, IsOptional, IsString, Min, ValidateNested } from 'class-validator';
import type { Logger } from 'pino';
import { Access, AuthModule, CurrentActor, DEV_JWT_SECRET, Public, signDevToken, type Actor, type Role } from '@kcflow/auth';
import { refuse } from '@kcflow/domain';
import { ProblemDetailsFilter } from './problem-details.filter';
import { createValidationPipe } from './validation';

class ProjectDto {
  @IsString()
  @IsNotEmpty()
  title: string;

  @IsInt()
  @Min(1)
  totalCost: number;
}

class TrancheDto {
  @IsInt()
  amount: number;
}

class SubmitDto {
  @IsString()
  programmeId: string;

  @ValidateNested()
  @Type(() => ProjectDto)
  project: ProjectDto;

  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => TrancheDto)
  tranches?: TrancheDto[];
}

@Controller('applications')
class DummyController {
  @Post()
  @Access('applications.submit')
  submit(@Body() body: SubmitDto, @CurrentActor() actor: Actor) {
    return { isDto: body instanceof SubmitDto, body, actorId: actor.id };
  }

  @Post(':id/approval')
  @HttpCode(200)
  @Access('applications.approve')
  approve() {
    throw refuse.transition('An application in status "submitted" cannot be approved; it must be reviewed first');
  }

  @Get('boom')
  @Public()
  boom() {
    throw new Error('connect ECONNREFUSED postgres://kcflow:s3cret@db:5432');
  }
}

const PROBLEM_JSON = 'application/problem+json; charset=utf-8';
const BODY_LIMIT = 4_096;

describe('HTTP errors as problem details (Nest + Fastify)', () => {
  let app: NestFastifyApplication;
  const logger = { error: jest.fn(), warn: jest.fn(), info: jest.fn(), debug: jest.fn() };
  let applicantToken: string;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [AuthModule.forRoot({ jwtSecret: DEV_JWT_SECRET, logger: logger as unknown as Logger })],
      controllers: [DummyController],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter({ bodyLimit: BODY_LIMIT }), { logger: false });
    app.useGlobalPipes(createValidationPipe());
    app.useGlobalFilters(new ProblemDetailsFilter(logger as unknown as Logger));
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    applicantToken = await token(['applicant']);
  });

  afterAll(() => app.close());

  const token = (roles: Role[]) => signDevToken({ sub: 'coop-phu-vinh', roles }, DEV_JWT_SECRET);

  function post(url: string, payload: string | object, headers: Record<string, string> = {}) {
    return app.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${applicantToken}`, 'content-type': 'application/json', ...headers },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
  }

  const valid = { programmeId: 'HN-2024-city', project: { title: 'Máy dệt', totalCost: 500_000_000 }, tranches: [{ amount: 1 }] };

  it('accepts a valid body, transformed into the DTO class', async () => {
    const response = await post('/applications', valid);
    expect(response.statusCode).toBe(201);
    expect(response.json()).toEqual({ isDto: true, body: valid, actorId: 'coop-phu-vinh' });
  });

  it('answers 400 with one error per field for a bad DTO: nested values, array items, unknown fields', async () => {
    const response = await post('/applications', {
      programmeId: 42,
      project: { title: '', totalCost: 12.5, colour: 'red' },
      tranches: [{ amount: 1 }, { amount: 'lots' }],
      priority: 'high',
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toBe(PROBLEM_JSON);
    const problem = response.json();
    expect(problem).toMatchObject({
      type: 'https://kcflow.example/problems/validation-failed',
      title: 'The request is invalid',
      status: 400,
      instance: '/applications',
    });
    expect(problem.errors).toEqual(
      expect.arrayContaining([
        { field: 'priority', message: 'priority is not an accepted field' },
        { field: 'programmeId', message: 'programmeId must be a string' },
        { field: 'project.title', message: 'title should not be empty' },
        { field: 'project.totalCost', message: 'totalCost must be an integer number' },
        { field: 'project.colour', message: 'colour is not an accepted field' },
        { field: 'tranches[1].amount', message: 'amount must be an integer number' },
      ]),
    );
    expect(problem.errors).toHaveLength(6);
  });

  it('answers 400 when the body is a JSON value but not an object', async () => {
    for (const body of ['[1, 2]', '"text"', 'null']) {
      const response = await post('/applications', body);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({
        type: 'https://kcflow.example/problems/validation-failed',
        errors: [{ field: '$', message: 'the body must be a JSON object' }],
      });
    }
  });

  it('answers 400 to malformed JSON', async () => {
    const response = await post('/applications', '{"programmeId": "HN-2024-city",');
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toBe(PROBLEM_JSON);
    expect(response.json()).toEqual({
      type: 'https://kcflow.example/problems/malformed-json',
      title: 'The body is not valid JSON',
      status: 400,
      detail: 'The request body could not be parsed as JSON',
      instance: '/applications',
    });
  });

  it('answers 413 to a body over the limit and 415 to a body that is not JSON', async () => {
    const tooLarge = await post('/applications', { ...valid, project: { ...valid.project, title: 'x'.repeat(BODY_LIMIT) } });
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.json().type).toBe('https://kcflow.example/problems/payload-too-large');

    const xml = await post('/applications', '<application/>', { 'content-type': 'application/xml' });
    expect(xml.statusCode).toBe(415);
    expect(xml.json().type).toBe('https://kcflow.example/problems/unsupported-media-type');
  });

  it('answers 401 with a bearer challenge when the token is missing or bad', async () => {
    const missing = await app.inject({ method: 'POST', url: '/applications', payload: valid });
    expect(missing.statusCode).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="kcflow"');
    expect(missing.headers['content-type']).toBe(PROBLEM_JSON);
    expect(missing.json()).toMatchObject({ type: 'https://kcflow.example/problems/unauthenticated', status: 401 });

    const expired = await post('/applications', valid, {
      authorization: `Bearer ${await signDevToken({ sub: 'x', roles: ['applicant'], expiresIn: '-1h' }, DEV_JWT_SECRET)}`,
    });
    expect(expired.statusCode).toBe(401);
    expect(expired.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(expired.json().detail).toBe('The bearer token is invalid: token has expired');
  });

  it('answers 403 to a role the policy does not list', async () => {
    const response = await post('/applications', valid, { authorization: `Bearer ${await token(['committee'])}` });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({
      type: 'https://kcflow.example/problems/forbidden',
      status: 403,
      detail: 'This action (applications.submit) needs one of the roles: applicant',
    });
  });

  it('answers 404 to an unknown route', async () => {
    const response = await app.inject({ method: 'GET', url: '/nowhere?x=1' });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toBe(PROBLEM_JSON);
    expect(response.json()).toEqual({
      type: 'https://kcflow.example/problems/not-found',
      title: 'Not found',
      status: 404,
      detail: 'Cannot GET /nowhere?x=1',
      instance: '/nowhere',
    });
  });

  it('answers 409 with the domain’s reason to a refused transition', async () => {
    const response = await post('/applications/a-1/approval', {}, { authorization: `Bearer ${await token(['committee'])}` });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toEqual({
      type: 'https://kcflow.example/problems/invalid-transition',
      title: 'The lifecycle does not allow this step',
      status: 409,
      detail: 'An application in status "submitted" cannot be approved; it must be reviewed first',
      instance: '/applications/a-1/approval',
    });
  });

  it('answers 500 with a generic detail, logging the real error', async () => {
    logger.error.mockClear();
    const response = await app.inject({ method: 'GET', url: '/applications/boom' });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({
      type: 'https://kcflow.example/problems/internal-error',
      title: 'Internal server error',
      status: 500,
      detail: 'An unexpected error occurred; it has been logged',
      instance: '/applications/boom',
    });
    expect(response.body).not.toContain('s3cret');
    expect(logger.error).toHaveBeenCalledWith(
      expect.objectContaining({ err: expect.objectContaining({ message: expect.stringContaining('ECONNREFUSED') }), status: 500 }),
      'request failed',
    );
  });
});
