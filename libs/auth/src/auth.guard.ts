import {
  ForbiddenException,
  Injectable,
  ServiceUnavailableException,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Logger } from 'pino';
import { ACCESS_METADATA, ACTOR_REQUEST_KEY, type AccessDeclaration, type RequestWithActor } from './access.decorators';
import { mayAccess, rolesAllowed } from './access-policy';
import { InvalidTokenError, JwtVerifier, TokenVerificationUnavailableError } from './jwt-verifier';

const REALM = 'kcflow';

type HttpRequest = RequestWithActor & { headers: Record<string, string | string[] | undefined> };

/** The Fastify reply, as far as the guard uses it. */
type HttpReply = { header(name: string, value: string): unknown };

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * The global guard. Fails closed: a route that declares neither `@Access(rule)` nor
 * `@Public()` is refused for everyone, because forgetting the declaration must not open it.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: JwtVerifier,
    private readonly logger: Logger,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const declaration = this.reflector.getAllAndOverride<AccessDeclaration | undefined>(ACCESS_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]);
    const route = `${context.getClass().name}.${context.getHandler().name}`;
    if (!declaration) {
      this.logger.error({ route }, 'Route declares neither @Access nor @Public, so it is denied to everyone: a bug to fix');
      throw new ForbiddenException('Access to this route is not configured');
    }
    if (declaration.public) return true;

    const request = context.switchToHttp().getRequest<HttpRequest>();
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) {
      throw challenge(context, 'A bearer token is required (Authorization: Bearer <JWT>)');
    }
    if (token === null) {
      throw challenge(context, 'The Authorization header is not a bearer token', 'malformed Authorization header');
    }

    // The rate limiter or the Idempotency-Key hook may have verified this token already, for this request.
    const actor = await this.verifier.verifyForRequest(request, token).catch((error: unknown) => {
      if (error instanceof InvalidTokenError) {
        this.logger.info({ route, reason: error.reason }, 'bearer token refused');
        throw challenge(context, `The bearer token is invalid: ${error.reason}`, error.reason);
      }
      if (error instanceof TokenVerificationUnavailableError) {
        this.logger.error({ route, err: error.cause }, error.message);
        throw new ServiceUnavailableException('Tokens cannot be verified at the moment; try again shortly');
      }
      throw error;
    });

    // Set before the role check, so the audit log of a refused request can say who it was.
    request[ACTOR_REQUEST_KEY] = actor;
    if (!mayAccess(actor, declaration.rule)) {
      this.logger.info({ route, actorId: actor.id, roles: actor.roles, rule: declaration.rule }, 'role not allowed');
      const allowed = rolesAllowed(declaration.rule).join(', ');
      throw new ForbiddenException(`This action (${declaration.rule}) needs one of the roles: ${allowed}`);
    }
    return true;
  }
}

/**
 * A 401 with its RFC 6750 challenge. The guard sets the header itself, so the answer is
 * right whichever exception filter renders the body.
 */
function challenge(context: ExecutionContext, detail: string, invalidTokenReason?: string): UnauthorizedException {
  const value =
    invalidTokenReason === undefined
      ? `Bearer realm="${REALM}"`
      : `Bearer realm="${REALM}", error="invalid_token", error_description="${headerSafe(invalidTokenReason)}"`;
  context.switchToHttp().getResponse<HttpReply>().header('WWW-Authenticate', value);
  return new UnauthorizedException(detail);
}

/** The token; undefined when there is no header; null when the header is not a bearer token. */
export function bearerToken(header: string | string[] | undefined): string | undefined | null {
  if (header === undefined || header === '') return undefined;
  if (Array.isArray(header)) return null;
  return BEARER.exec(header)?.[1] ?? null;
}

// A header value must stay one quoted string of printable ASCII.
function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7E]|["\\]/g, "'");
}
