import { BadRequestException, ForbiddenException, HttpException, InternalServerErrorException, NotFoundException } from '@nestjs/common';
import { DomainError, type DomainErrorCode } from '@kcflow/domain';
import { errorCodes } from 'fastify';
import { PROBLEM_TYPES, toProblem } from './problem-details';
import { ValidationFailedException } from './validation';

const typeOf = (slug: string) => `https://kcflow.example/problems/${slug}`;

function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

describe('toProblem', () => {
  it.each<[DomainErrorCode, number, string]>([
    ['invalid_transition', 409, 'invalid-transition'],
    ['business_rule', 409, 'business-rule'],
    ['not_found', 404, 'not-found'],
    ['forbidden', 403, 'forbidden'],
    ['invalid_input', 400, 'invalid-input'],
  ])('maps DomainError %s to %i %s, its message as detail', (code, status, slug) => {
    const { problem, unexpected } = toProblem(new DomainError(code, 'Budget for trade_fair is exhausted'), '/applications/a1/approval');
    expect(problem).toEqual({
      type: typeOf(slug),
      title: expect.any(String),
      status,
      detail: 'Budget for trade_fair is exhausted',
      instance: '/applications/a1/approval',
    });
    expect(unexpected).toBe(false);
  });

  it.each([
    ['PreconditionFailedError', 412, 'precondition-failed'],
    ['IdempotencyKeyReusedError', 422, 'idempotency-key-reused'],
    ['IdempotencyKeyInProgressError', 409, 'idempotency-key-in-progress'],
    ['ConcurrencyRetryExhaustedError', 409, 'concurrency-conflict'],
  ])('maps the workflow error %s (by name) to %i %s', (name, status, slug) => {
    const { problem } = toProblem(namedError(name, 'Expected revision 3, stream is at 5'));
    expect(problem).toMatchObject({ type: typeOf(slug), status, detail: 'Expected revision 3, stream is at 5' });
  });

  it('returns the field errors of a failed validation', () => {
    const errors = [{ field: 'project.totalCost', message: 'totalCost must be an integer number' }];
    expect(toProblem(new ValidationFailedException(errors)).problem).toMatchObject({ type: typeOf('validation-failed'), status: 400, errors });
  });

  it.each([
    ['FST_ERR_CTP_INVALID_JSON_BODY', new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), 400, 'malformed-json'],
    ['FST_ERR_CTP_EMPTY_JSON_BODY', new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY(), 400, 'malformed-json'],
    ['FST_ERR_CTP_BODY_TOO_LARGE', new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), 413, 'payload-too-large'],
    ['FST_ERR_CTP_INVALID_MEDIA_TYPE', new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(), 415, 'unsupported-media-type'],
  ])('maps Fastify’s %s, raw or as Nest re-throws it', (_code, fastifyError, status, slug) => {
    const rethrownByNest = new HttpException(fastifyError.message, fastifyError.statusCode as number);
    for (const error of [fastifyError, rethrownByNest]) {
      expect(toProblem(error).problem).toMatchObject({ type: typeOf(slug), status });
    }
  });

  it('maps a body parser’s SyntaxError marked 400 to malformed JSON', () => {
    const error = Object.assign(new SyntaxError('Unexpected token } in JSON at position 9'), { statusCode: 400 });
    expect(toProblem(error).problem).toMatchObject({ type: typeOf('malformed-json'), status: 400 });
  });

  it.each([
    ['NotFoundException', new NotFoundException('Cannot GET /nowhere'), 404, 'not-found', 'Cannot GET /nowhere'],
    ['ForbiddenException', new ForbiddenException('This action needs one of the roles: committee'), 403, 'forbidden', 'This action needs one of the roles: committee'],
    ['BadRequestException', new BadRequestException('Validation failed (numeric string is expected)'), 400, 'bad-request', 'Validation failed (numeric string is expected)'],
    ['an HttpException with a message list', new HttpException({ message: ['a must be set', 'b must be set'] }, 400), 400, 'bad-request', 'a must be set; b must be set'],
    ['a 429', new HttpException('Slow down', 429), 429, 'too-many-requests', 'Slow down'],
  ])('maps %s by its status', (_case, error, status, slug, detail) => {
    expect(toProblem(error).problem).toMatchObject({ type: typeOf(slug), status, detail });
  });

  it('answers a status without a problem type of its own as about:blank with the status phrase (RFC 9457 §4.2.1)', () => {
    expect(toProblem(new HttpException('Use POST', 405)).problem).toEqual({
      type: 'about:blank',
      title: 'Method Not Allowed',
      status: 405,
      detail: 'Use POST',
    });
  });

  it.each([
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'rows')")],
    ['an error leaking a connection string', new Error('connect ECONNREFUSED postgres://kcflow:s3cret@db:5432')],
    ['a deliberate 500', new InternalServerErrorException('pool exhausted at PgDatabase.query')],
    ['an error claiming a 5xx statusCode', Object.assign(new Error('upstream said'), { statusCode: 502 })],
    ['a thrown string', 'oops'],
  ])('hides %s behind a generic 500 and asks for it to be logged', (_case, error) => {
    const { problem, unexpected } = toProblem(error, '/x');
    expect(problem).toEqual({
      type: typeOf('internal-error'),
      title: 'Internal server error',
      status: 500,
      detail: 'An unexpected error occurred; it has been logged',
      instance: '/x',
    });
    expect(unexpected).toBe(true);
  });
});

describe('PROBLEM_TYPES', () => {
  it('has one entry per slug, each an error status with a title', () => {
    const slugs = PROBLEM_TYPES.map((type) => type.slug);
    expect(new Set(slugs).size).toBe(slugs.length);
    for (const type of PROBLEM_TYPES) {
      expect(type.status).toBeGreaterThanOrEqual(400);
      expect(type.title.length).toBeGreaterThan(0);
    }
  });

  it('lets no HTTP status or error source lead to two entries', () => {
    const sources = PROBLEM_TYPES.flatMap(({ from }) => [
      ...('httpStatus' in from ? [`status ${from.httpStatus}`] : []),
      ...('domainCode' in from ? [`code ${from.domainCode}`] : []),
      ...('errorName' in from ? [`name ${from.errorName}`] : []),
      ...('fastifyCodes' in from ? from.fastifyCodes : []),
    ]);
    expect(new Set(sources).size).toBe(sources.length);
  });
});
