import { webcrypto } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { isRole, type Actor, type Role } from './actor';

/** Plain options, so the application can fill them from its configuration. */
export interface AuthOptions {
  /** HS256 secret (development). Ignored when `jwksUrl` is set. */
  jwtSecret?: string;
  /** RS256 key set of the identity provider (production); requires `issuer` and `audience`. */
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

/** Bounds of the cache of accepted tokens (see JwtVerifier.verifyToken). */
export interface TokenCacheOptions {
  /** Tokens kept at most; the oldest goes first. 0 turns the cache off. */
  maxEntries?: number;
  /** How long an accepted token is taken on trust, at most, before it is verified again. */
  ttlMs?: number;
  /** Milliseconds since the epoch (tests pass a clock of their own). */
  now?: () => number;
}

const TOKEN_CACHE_ENTRIES = 10_000;
// Short enough that a key the identity provider drops stops being honoured within a minute
// (jose itself keeps the fetched key set for up to ten).
const TOKEN_CACHE_TTL_MS = 60_000;

/** The token was presented but cannot be trusted. `reason` is safe to show; it never holds the token. */
export class InvalidTokenError extends Error {
  constructor(readonly reason: string) {
    super(`Invalid bearer token: ${reason}`);
    this.name = 'InvalidTokenError';
  }
}

/** The identity provider's key set could not be fetched: our problem, not the caller's (503). */
export class TokenVerificationUnavailableError extends Error {
  constructor(options?: { cause?: unknown }) {
    super('The identity provider key set is unavailable', options);
    this.name = 'TokenVerificationUnavailableError';
  }
}

// Tolerates small clock differences between the identity provider and this server.
const CLOCK_TOLERANCE_SECONDS = 30;
const MAX_ROLE_ECHO = 40;

/**
 * Turns a bearer token into an Actor. Development: HS256 with a shared secret. Production:
 * RS256 keys from the identity provider's JWKS, with issuer and audience checked; HS256 is
 * then refused, so a leaked development secret cannot mint production tokens.
 */
export class JwtVerifier {
  readonly mode: 'dev-secret' | 'jwks';
  private readonly verifyJwt: (token: string) => Promise<JWTPayload>;
  private readonly verdicts = new WeakMap<object, { token: string; verdict: Promise<Verified> }>();
  private readonly accepted = new Map<string, { verified: Verified; until: number }>();
  private readonly maxAccepted: number;
  private readonly acceptedTtlMs: number;
  private readonly now: () => number;

  constructor(options: AuthOptions, cache: TokenCacheOptions = {}) {
    this.maxAccepted = cache.maxEntries ?? TOKEN_CACHE_ENTRIES;
    this.acceptedTtlMs = cache.ttlMs ?? TOKEN_CACHE_TTL_MS;
    this.now = cache.now ?? (() => Date.now());
    // A token without expiry would be a credential for ever.
    const common: JWTVerifyOptions = { requiredClaims: ['sub', 'exp'], clockTolerance: CLOCK_TOLERANCE_SECONDS };
    if (options.jwksUrl) {
      if (!options.issuer || !options.audience) {
        throw new Error('AuthOptions: jwksUrl requires issuer and audience');
      }
      const keySet = createRemoteJWKSet(new URL(options.jwksUrl));
      const verifyOptions = { ...common, algorithms: ['RS256'], issuer: options.issuer, audience: options.audience };
      this.mode = 'jwks';
      this.verifyJwt = async (token) => (await jwtVerify(token, keySet, verifyOptions)).payload;
    } else if (options.jwtSecret) {
      // Imported once: given the bytes, jose imports them as a key on every call.
      const secret = webcrypto.subtle.importKey('raw', new TextEncoder().encode(options.jwtSecret), { name: 'HMAC', hash: 'SHA-256' }, false, [
        'verify',
      ]);
      secret.catch(() => undefined); // a failure reaches each verify() instead
      const verifyOptions = { ...common, algorithms: ['HS256'] };
      this.mode = 'dev-secret';
      this.verifyJwt = async (token) => (await jwtVerify(token, await secret, verifyOptions)).payload;
    } else {
      throw new Error('AuthOptions: either jwtSecret or jwksUrl is required');
    }
  }

  async verify(token: string): Promise<Actor> {
    return (await this.verifyToken(token)).actor;
  }

  /**
   * verify(), at most once per request and token: the rate limiter, the Idempotency-Key hook
   * and the guard all need the caller. The verdict is reused only for the very same token,
   * refusals included, and an actor only while its token has not expired since.
   */
  async verifyForRequest(request: object, token: string): Promise<Actor> {
    const known = this.verdicts.get(request);
    if (known?.token === token) {
      const { actor, expiresAt } = await known.verdict;
      if (Math.floor(Date.now() / 1000) < expiresAt + CLOCK_TOLERANCE_SECONDS) return actor;
    }
    const verdict = this.verifyToken(token);
    this.verdicts.set(request, { token, verdict });
    return (await verdict).actor;
  }

  /**
   * A client sends the same token with every request for the token's lifetime, so a token
   * accepted once is taken on trust for a while: only the exact same string, never past its
   * "exp" (the clock tolerance is left to a full verification), and for at most `ttlMs`, so
   * that a key rotation or a key dropped from the key set takes effect. Refusals are never
   * kept: every token not accepted before is verified in full.
   */
  private async verifyToken(token: string): Promise<Verified> {
    const known = this.accepted.get(token);
    if (known !== undefined) {
      if (this.now() < known.until) return known.verified;
      this.accepted.delete(token);
    }
    let payload: JWTPayload;
    try {
      payload = await this.verifyJwt(token);
    } catch (error) {
      throw classifyJoseError(error);
    }
    // jose checked that "exp" (a required claim) is a number.
    const verified = { actor: actorFromClaims(payload), expiresAt: payload.exp! };
    this.accept(token, verified);
    return verified;
  }

  private accept(token: string, verified: Verified): void {
    if (this.maxAccepted === 0) return;
    // One actor object now serves many requests: none of them may change it for the others.
    Object.freeze(verified.actor.roles);
    Object.freeze(verified.actor);
    const until = Math.min(this.now() + this.acceptedTtlMs, verified.expiresAt * 1000);
    this.accepted.delete(token);
    while (this.accepted.size >= this.maxAccepted) this.accepted.delete(this.accepted.keys().next().value as string);
    this.accepted.set(token, { verified, until });
  }
}

interface Verified {
  actor: Actor;
  /** The token's "exp", in seconds since the epoch. */
  expiresAt: number;
}

export function actorFromClaims(claims: JWTPayload): Actor {
  const { sub, roles, name } = claims;
  if (typeof sub !== 'string' || sub.trim() === '') {
    throw new InvalidTokenError('"sub" claim must be a non-empty string');
  }
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string')) {
    throw new InvalidTokenError('"roles" claim must be an array of role names');
  }
  const unknown = roles.find((role) => !isRole(role));
  if (unknown !== undefined) {
    throw new InvalidTokenError(`unknown role ${JSON.stringify(String(unknown).slice(0, MAX_ROLE_ECHO))}`);
  }
  if (name !== undefined && typeof name !== 'string') {
    throw new InvalidTokenError('"name" claim must be a string');
  }
  const actor: Actor = { id: sub, roles: [...new Set(roles as Role[])] };
  if (name) actor.name = name;
  return actor;
}

function classifyJoseError(error: unknown): Error {
  if (error instanceof errors.JWTExpired) return new InvalidTokenError('token has expired');
  // jose's claim messages name the claim, never its value, e.g. 'unexpected "iss" claim value'.
  if (error instanceof errors.JWTClaimValidationFailed) return new InvalidTokenError(error.message);
  if (error instanceof errors.JWSSignatureVerificationFailed) return new InvalidTokenError('signature verification failed');
  if (error instanceof errors.JOSEAlgNotAllowed) return new InvalidTokenError('signing algorithm not accepted');
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return new InvalidTokenError('no single key of the identity provider matches the token');
  }
  // The identity provider's key set could not be used: a fault on our side, not the caller's.
  const keySetFault = error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || error instanceof errors.JWKInvalid;
  if (keySetFault || !(error instanceof errors.JOSEError)) return new TokenVerificationUnavailableError({ cause: error });
  // JWSInvalid, JWTInvalid, JOSENotSupported and the like: the token is not a usable JWT.
  return new InvalidTokenError('malformed token');
}
