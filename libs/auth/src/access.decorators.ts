import { applyDecorators, createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension } from '@nestjs/swagger';
import { ACCESS_POLICY, type AccessRule } from './access-policy';
import type { Actor } from './actor';

export const ACCESS_METADATA = 'kcflow:access';

/** What a route declares; the handler's declaration overrides its controller's. */
export type AccessDeclaration = { public: true } | { public: false; rule: AccessRule };

/**
 * The route needs a bearer token with one of the roles ACCESS_POLICY lists for `rule`.
 * The roles also go into the OpenAPI document (`x-kcflow-access`), so the docs cannot drift
 * from the policy.
 */
export function Access(rule: AccessRule): ClassDecorator & MethodDecorator {
  const declaration: AccessDeclaration = { public: false, rule };
  return applyDecorators(
    SetMetadata(ACCESS_METADATA, declaration),
    ApiBearerAuth(),
    ApiExtension('x-kcflow-access', { rule, roles: [...ACCESS_POLICY[rule]] }),
  );
}

/** The route is open without a token: health, docs, metrics. */
export function Public(): ClassDecorator & MethodDecorator {
  const declaration: AccessDeclaration = { public: true };
  return SetMetadata(ACCESS_METADATA, declaration);
}

/** Where the guard leaves the verified actor on the request. */
export const ACTOR_REQUEST_KEY = 'actor';

export type RequestWithActor = { [ACTOR_REQUEST_KEY]?: Actor };

/** The actor the guard verified. Only on `@Access` routes; on a `@Public` one it is a bug. */
export const CurrentActor = createParamDecorator((_data: unknown, context: ExecutionContext): Actor => {
  const actor = context.switchToHttp().getRequest<RequestWithActor>()[ACTOR_REQUEST_KEY];
  if (!actor) {
    throw new Error('@CurrentActor() used on a route without @Access: no actor was verified');
  }
  return actor;
});
