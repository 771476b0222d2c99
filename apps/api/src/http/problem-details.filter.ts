import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { toProblem } from './problem-details';
import { logRefusal } from './request-log';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/**
 * The one global exception filter: every error response, including unknown routes and body
 * parsing failures, is an RFC 9457 problem (see PROBLEM_TYPES for the mapping).
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    // The resource the problem is about: the path, without the query.
    const instance = request.url.split('?')[0];
    const { problem, unexpected } = toProblem(exception, instance);

    if (unexpected) {
      this.logger.error({ err: exception, method: request.method, url: instance, status: problem.status }, 'request failed');
    }
    logRefusal(this.logger, request, problem);
    if (reply.sent) return; // the response had started: nothing more can be said to the client

    // RFC 6750 asks for a challenge on every 401; the auth guard sets a more precise one.
    if (problem.status === 401 && !reply.hasHeader('www-authenticate')) reply.header('WWW-Authenticate', 'Bearer realm="kcflow"');
    void reply.status(problem.status).header('Content-Type', PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
  }
}
