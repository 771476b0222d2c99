import { ACTOR_REQUEST_KEY, type RequestWithActor } from '@kcflow/auth';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ProblemDetails } from './problem-details';
import { rateLimitedCaller } from './rate-limit';

/** The refusals an inspector or operator looks for: authentication, authority, conflicts, abuse. */
const REFUSED = new Set([401, 403, 409, 412, 422, 429]);

/**
 * One structured line per refused request: who (verified actor id, else null, and the IP),
 * what (method and route pattern) and why (problem type and detail). Never the headers (the
 * token), the body or the query string (a search may hold an applicant's name or tax code).
 */
export function logRefusal(logger: Logger, request: FastifyRequest, problem: ProblemDetails): void {
  if (!REFUSED.has(problem.status)) return;
  const actor = (request as FastifyRequest & RequestWithActor)[ACTOR_REQUEST_KEY];
  logger.info(
    {
      audit: 'request-refused',
      requestId: request.id,
      actorId: actor?.id ?? rateLimitedCaller(request) ?? null,
      roles: actor?.roles,
      ip: request.ip,
      method: request.method,
      route: request.routeOptions?.url ?? problem.instance,
      status: problem.status,
      problemType: problem.type,
      detail: problem.detail,
    },
    'request refused',
  );
}

/**
 * Fastify's access log line for a request, as its default but without the query string: a
 * search (`?search=`) may hold an applicant's name or tax code.
 */
export function requestLogSummary(request: FastifyRequest) {
  return { method: request.method, url: request.url.split('?')[0], host: request.host, remoteAddress: request.ip };
}
