import { SignJWT } from 'jose';
import type { Role } from './actor';

/**
 * The documented development secret (README, API.md). Start-up warns loudly while it is in
 * use; anyone who reads the docs can mint tokens with it. 35 characters, because HS256 keys
 * shorter than 256 bits are refused by the configuration.
 */
export const DEV_JWT_SECRET = 'kcflow-development-secret-change-me';

export const DEFAULT_DEV_TOKEN_LIFETIME = '8h';

export interface DevTokenClaims {
  sub: string;
  roles: readonly Role[];
  name?: string;
  /** A jose time span ('8h', '30m', '-1h' for an already expired token) or an epoch in seconds. */
  expiresIn?: string | number;
}

/** An HS256 token as the API accepts in development: for `npm run token` and for tests. */
export function signDevToken(claims: DevTokenClaims, secret: string): Promise<string> {
  const payload: Record<string, unknown> = { roles: [...claims.roles] };
  if (claims.name !== undefined) payload.name = claims.name;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(claims.expiresIn ?? DEFAULT_DEV_TOKEN_LIFETIME)
    .sign(new TextEncoder().encode(secret));
}
