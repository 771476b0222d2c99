import rateLimit from '@fastify/rate-limit';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { JwtVerifier, bearerToken } from '@kcflow/auth';
import type { FastifyRequest } from 'fastify';

/** Where the rate limiter leaves the verified caller, so a 429 can say who in the audit log. */
export const RATE_LIMITED_CALLER = Symbol('kcflow.rateLimitedCaller');
type Marked = FastifyRequest & { [RATE_LIMITED_CALLER]?: string };

// Probes, the metrics scrape, the OpenAPI document and the console's static files carry no data.
const EXEMPT = /^\/(health|metrics|docs|console)(\/|$|\?|-json)/;

/**
 * RATE_LIMIT_PER_MINUTE requests per minute per actor (0: off). The key is the token's
 * subject only once its signature verifies, so forged tokens cannot mint fresh budgets; an
 * anonymous or unverifiable caller is counted by IP. The verdict stays with the request, so
 * the guard does not verify the token a second time. The counters live in this process:
 * behind N replicas a caller gets up to N times the limit.
 */
export async function useRateLimit(app: NestFastifyApplication, perMinute: number): Promise<void> {
  if (perMinute === 0) return;
  const verifier = app.get(JwtVerifier);
  await app.register(rateLimit, {
    global: true,
    max: perMinute,
    timeWindow: 60_000,
    allowList: (request) => EXEMPT.test(request.url),
    keyGenerator: async (request: Marked) => {
      const token = bearerToken(request.headers.authorization);
      const actor = token ? await verifier.verifyForRequest(request, token).catch(() => undefined) : undefined;
      if (!actor) return `ip:${request.ip}`;
      request[RATE_LIMITED_CALLER] = actor.id;
      return `actor:${actor.id}`;
    },
  });
}

export function rateLimitedCaller(request: FastifyRequest): string | undefined {
  return (request as Marked)[RATE_LIMITED_CALLER];
}
