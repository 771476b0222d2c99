import { BadRequestException } from '@nestjs/common';
import { ACCESS_POLICY, AccessRule, Actor, Role } from '@kcflow/auth';
import { CommandContext } from '@kcflow/workflow';
import type { FastifyReply, FastifyRequest } from 'fastify';

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/** The metadata every event of this request will carry, and the caller's If-Match. */
export function commandContext(request: FastifyRequest, actor: Actor, rule: AccessRule): CommandContext {
  const allowed: readonly Role[] = ACCESS_POLICY[rule];
  const correlation = request.headers['x-correlation-id'];
  if (correlation !== undefined && (typeof correlation !== 'string' || !CORRELATION_ID.test(correlation))) {
    throw new BadRequestException('X-Correlation-Id must be 1–100 characters of letters, digits and . _ : -');
  }
  return {
    actorId: actor.id,
    role: actor.roles.find((r) => allowed.includes(r)) ?? actor.roles[0],
    actorName: actor.name,
    correlationId: correlation ?? request.id,
    causationId: request.id,
    expectedRevision: ifMatch(request.headers['if-match']),
  };
}

/** `If-Match: "3"` (also bare `3` or weak `W/"3"`) → 3. */
function ifMatch(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const match = typeof header === 'string' ? /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(header) : null;
  if (!match) throw new BadRequestException('If-Match must be a revision in quotes, as the ETag gave it, e.g. "3"');
  return Number(match[1]);
}

export function setETag(reply: FastifyReply, revision: number): void {
  reply.header('ETag', `"${revision}"`);
}
