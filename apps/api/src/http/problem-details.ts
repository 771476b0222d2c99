import { STATUS_CODES } from 'node:http';
import { HttpException } from '@nestjs/common';
import { DomainError, type DomainErrorCode } from '@kcflow/domain';
import { ValidationFailedException, type FieldError } from './validation';

/** RFC 9457 problem details, as every error response of the API carries them. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: readonly FieldError[];
}

export const PROBLEM_TYPE_BASE = 'https://kcflow.example/problems/';

/**
 * Workflow errors (libs/workflow), matched by name so the HTTP edge does not import
 * the command loop.
 */
type WorkflowErrorName =
  | 'PreconditionFailedError'
  | 'IdempotencyKeyReusedError'
  | 'IdempotencyKeyInProgressError'
  | 'ConcurrencyRetryExhaustedError';

interface ProblemType {
  slug: string;
  status: number;
  title: string;
  /** A fixed detail, where the cause's own message is not meant for clients. */
  detail?: string;
  /** What leads to it: any one of these. */
  from: {
    domainCode?: DomainErrorCode;
    errorName?: WorkflowErrorName;
    /** Fastify error codes (body parsing). */
    fastifyCodes?: readonly string[];
    /** An HttpException with this status, when nothing more specific matched. */
    httpStatus?: number;
  };
}

/**
 * Every problem type the API answers with: `type` is PROBLEM_TYPE_BASE + slug. The one place
 * that maps errors to HTTP statuses. HttpExceptions of a status not listed here answer with
 * `type: "about:blank"` and the status phrase as title (RFC 9457 §4.2.1).
 */
export const PROBLEM_TYPES = [
  { slug: 'validation-failed', status: 400, title: 'The request is invalid', from: {} },
  {
    slug: 'malformed-json',
    status: 400,
    title: 'The body is not valid JSON',
    detail: 'The request body could not be parsed as JSON',
    from: { fastifyCodes: ['FST_ERR_CTP_INVALID_JSON_BODY', 'FST_ERR_CTP_EMPTY_JSON_BODY'] },
  },
  { slug: 'invalid-input', status: 400, title: 'The command is invalid', from: { domainCode: 'invalid_input' } },
  { slug: 'bad-request', status: 400, title: 'Bad request', from: { httpStatus: 400 } },
  { slug: 'unauthenticated', status: 401, title: 'Authentication required', from: { httpStatus: 401 } },
  { slug: 'forbidden', status: 403, title: 'Not allowed', from: { domainCode: 'forbidden', httpStatus: 403 } },
  { slug: 'not-found', status: 404, title: 'Not found', from: { domainCode: 'not_found', httpStatus: 404 } },
  { slug: 'invalid-transition', status: 409, title: 'The lifecycle does not allow this step', from: { domainCode: 'invalid_transition' } },
  { slug: 'business-rule', status: 409, title: 'A business rule refuses this', from: { domainCode: 'business_rule' } },
  {
    slug: 'idempotency-key-in-progress',
    status: 409,
    title: 'A request with this Idempotency-Key is still being processed',
    from: { errorName: 'IdempotencyKeyInProgressError' },
  },
  {
    slug: 'concurrency-conflict',
    status: 409,
    title: 'Too many concurrent changes; try again',
    from: { errorName: 'ConcurrencyRetryExhaustedError' },
  },
  { slug: 'conflict', status: 409, title: 'Conflict', from: { httpStatus: 409 } },
  { slug: 'precondition-failed', status: 412, title: 'The resource has changed (If-Match)', from: { errorName: 'PreconditionFailedError', httpStatus: 412 } },
  {
    slug: 'payload-too-large',
    status: 413,
    title: 'The body is too large',
    detail: 'The request body is larger than this server accepts',
    from: { fastifyCodes: ['FST_ERR_CTP_BODY_TOO_LARGE'], httpStatus: 413 },
  },
  {
    slug: 'unsupported-media-type',
    status: 415,
    title: 'Unsupported media type',
    detail: 'Send the body as application/json',
    from: { fastifyCodes: ['FST_ERR_CTP_INVALID_MEDIA_TYPE'], httpStatus: 415 },
  },
  {
    slug: 'idempotency-key-reused',
    status: 422,
    title: 'The Idempotency-Key was used with a different request',
    from: { errorName: 'IdempotencyKeyReusedError' },
  },
  { slug: 'too-many-requests', status: 429, title: 'Too many requests', from: { httpStatus: 429 } },
  {
    slug: 'internal-error',
    status: 500,
    title: 'Internal server error',
    detail: 'An unexpected error occurred; it has been logged',
    from: { httpStatus: 500 },
  },
  { slug: 'service-unavailable', status: 503, title: 'Service unavailable', from: { httpStatus: 503 } },
] as const satisfies readonly ProblemType[];

export type ProblemSlug = (typeof PROBLEM_TYPES)[number]['slug'];

export interface ProblemResponse {
  problem: ProblemDetails;
  /** A server-side failure (5xx): log it, with its stack. */
  unexpected: boolean;
}

const TABLE: readonly ProblemType[] = PROBLEM_TYPES;
const typeWhere = (match: (from: ProblemType['from']) => boolean) => TABLE.find((type) => match(type.from));
const typeNamed = (slug: ProblemSlug) => TABLE.find((type) => type.slug === slug) as ProblemType;
const INTERNAL_ERROR = typeNamed('internal-error');

/** Maps anything thrown while handling a request to the problem the client gets. */
export function toProblem(error: unknown, instance?: string): ProblemResponse {
  const found = classify(error);
  const problem: ProblemDetails =
    'type' in found
      ? {
          type: PROBLEM_TYPE_BASE + found.type.slug,
          title: found.type.title,
          status: found.type.status,
          detail: found.type.detail ?? found.detail ?? found.type.title,
        }
      : { type: 'about:blank', title: STATUS_CODES[found.status] ?? 'Error', status: found.status, detail: found.detail };
  if (instance !== undefined) problem.instance = instance;
  if ('errors' in found && found.errors) problem.errors = found.errors;
  return { problem, unexpected: problem.status >= 500 };
}

type Classified = { type: ProblemType; detail?: string; errors?: readonly FieldError[] } | { status: number; detail: string };

function classify(error: unknown): Classified {
  if (error instanceof ValidationFailedException) {
    return { type: typeNamed('validation-failed'), detail: error.message, errors: error.errors };
  }
  if (error instanceof DomainError) {
    return { type: typeWhere((from) => from.domainCode === error.code) ?? INTERNAL_ERROR, detail: error.message };
  }
  if (!(error instanceof Error)) return { type: INTERNAL_ERROR };

  const byName = typeWhere((from) => from.errorName === error.name);
  if (byName) return { type: byName, detail: error.message };
  const code = bodyParsingCodeOf(error);
  const byCode = code === undefined ? undefined : typeWhere((from) => from.fastifyCodes?.includes(code) ?? false);
  if (byCode) return { type: byCode };

  const status = error instanceof HttpException ? error.getStatus() : statusCodeOf(error);
  if (status === undefined) return { type: INTERNAL_ERROR };
  const detail = error instanceof HttpException ? httpDetail(error) : error.message;
  const byStatus = typeWhere((from) => from.httpStatus === status);
  return byStatus ? { type: byStatus, detail } : { status, detail };
}

/**
 * Nest hands Fastify's body-parsing errors to the filters re-thrown as
 * `HttpException(message, statusCode)`, which drops the code; the message, taken from the
 * same Fastify, still tells them apart.
 */
const FASTIFY_MESSAGES: Record<string, string> = {
  "Body is not valid JSON but content-type is set to 'application/json'": 'FST_ERR_CTP_INVALID_JSON_BODY',
  "Body cannot be empty when content-type is set to 'application/json'": 'FST_ERR_CTP_EMPTY_JSON_BODY',
  'Request body is too large': 'FST_ERR_CTP_BODY_TOO_LARGE',
  'Unsupported Media Type': 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
};

function bodyParsingCodeOf(error: Error): string | undefined {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('FST_')) return code;
  // A JSON parser's SyntaxError, marked as the client's fault by the body parser.
  if (error instanceof SyntaxError && statusCodeOf(error) === 400) return 'FST_ERR_CTP_INVALID_JSON_BODY';
  if (error instanceof HttpException && typeof error.getResponse() === 'string') return FASTIFY_MESSAGES[error.message];
  return undefined;
}

/** The 4xx status a Fastify or body-parser error carries; server-side statuses are not trusted. */
function statusCodeOf(error: Error): number | undefined {
  const { statusCode, status } = error as { statusCode?: unknown; status?: unknown };
  const value = statusCode ?? status;
  return typeof value === 'number' && value >= 400 && value < 500 ? value : undefined;
}

function httpDetail(error: HttpException): string {
  const response = error.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return message.join('; ');
  return error.message;
}
