import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { DEV_JWT_SECRET, signDevToken } from './dev-token';
import { InvalidTokenError, JwtVerifier, TokenVerificationUnavailableError } from './jwt-verifier';

const secretKey = new TextEncoder().encode(DEV_JWT_SECRET);

/** An HS256 token with exactly the given claims (no defaults), to probe claim checks. */
function hs256(claims: Record<string, unknown>, key: Uint8Array = secretKey): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(key);
}

const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

async function refusal(verifier: JwtVerifier, token: string): Promise<string> {
  const error = await verifier.verify(token).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(InvalidTokenError);
  return (error as InvalidTokenError).reason;
}

describe('JwtVerifier with the development secret (HS256)', () => {
  const verifier = new JwtVerifier({ jwtSecret: DEV_JWT_SECRET });

  it('turns a dev token into the actor it names', async () => {
    const token = await signDevToken({ sub: 'alice', roles: ['committee', 'finance'], name: 'Nguyễn Văn A' }, DEV_JWT_SECRET);
    await expect(verifier.verify(token)).resolves.toEqual({ id: 'alice', roles: ['committee', 'finance'], name: 'Nguyễn Văn A' });
    expect(verifier.mode).toBe('dev-secret');
  });

  it('refuses an expired token', async () => {
    const token = await signDevToken({ sub: 'alice', roles: ['admin'], expiresIn: '-1h' }, DEV_JWT_SECRET);
    expect(await refusal(verifier, token)).toBe('token has expired');
  });

  it('refuses a token signed with another secret', async () => {
    const token = await signDevToken({ sub: 'alice', roles: ['admin'] }, 'another-secret-of-at-least-32-characters');
    expect(await refusal(verifier, token)).toBe('signature verification failed');
  });

  it.each(['', 'garbage', 'a.b.c', 'eyJhbGciOiJIUzI1NiJ9.bm90anNvbg.c2ln'])('refuses the garbled token %j', async (token) => {
    expect(await refusal(verifier, token)).toMatch(/malformed token|signature verification failed/);
  });

  it('refuses an unsigned token (alg "none")', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ sub: 'mallory', roles: ['admin'], exp: inAnHour() })).toString('base64url');
    expect(await refusal(verifier, `${header}.${payload}.`)).toBe('signing algorithm not accepted');
  });

  const exp = inAnHour();
  it.each([
    [{ roles: ['admin'], exp }, 'missing required "sub" claim'],
    [{ sub: 'alice', roles: ['admin'] }, 'missing required "exp" claim'],
    [{ sub: '  ', roles: ['admin'], exp }, '"sub" claim must be a non-empty string'],
    [{ sub: 'alice', exp }, '"roles" claim must be an array of role names'],
    [{ sub: 'alice', roles: 'admin', exp }, '"roles" claim must be an array of role names'],
    [{ sub: 'alice', roles: ['admin', 7], exp }, '"roles" claim must be an array of role names'],
    [{ sub: 'alice', roles: ['admin', 'superuser'], exp }, 'unknown role "superuser"'],
    [{ sub: 'alice', roles: ['admin'], name: 42, exp }, '"name" claim must be a string'],
  ])('refuses the claims %j: %s', async (claims, reason) => {
    expect(await refusal(verifier, await hs256(claims))).toBe(reason);
  });

  it('accepts an empty role list (the guard then refuses every rule) and drops duplicate roles', async () => {
    await expect(verifier.verify(await hs256({ sub: 'x', roles: [], exp: inAnHour() }))).resolves.toEqual({ id: 'x', roles: [] });
    await expect(verifier.verify(await hs256({ sub: 'x', roles: ['admin', 'admin'], exp: inAnHour() }))).resolves.toEqual({
      id: 'x',
      roles: ['admin'],
    });
  });

  it('needs a secret or a key set', () => {
    expect(() => new JwtVerifier({})).toThrow(/jwtSecret or jwksUrl/);
  });
});

describe('JwtVerifier.verifyForRequest: one verification per request', () => {
  const verifier = new JwtVerifier({ jwtSecret: DEV_JWT_SECRET });
  const verifications = () => jest.spyOn(verifier as unknown as { verifyToken(token: string): Promise<unknown> }, 'verifyToken');

  afterEach(() => {
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  it('verifies a request\'s token once, and another request\'s again', async () => {
    const token = await signDevToken({ sub: 'alice', roles: ['finance'] }, DEV_JWT_SECRET);
    const spy = verifications();
    const request = {};
    await expect(verifier.verifyForRequest(request, token)).resolves.toEqual({ id: 'alice', roles: ['finance'] });
    await expect(verifier.verifyForRequest(request, token)).resolves.toEqual({ id: 'alice', roles: ['finance'] });
    expect(spy).toHaveBeenCalledTimes(1);
    await verifier.verifyForRequest({}, token);
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it('keeps a refusal for the request: the second caller gets the same InvalidTokenError', async () => {
    const token = await signDevToken({ sub: 'alice', roles: ['admin'] }, 'another-secret-of-at-least-32-characters');
    const spy = verifications();
    const request = {};
    const first = await verifier.verifyForRequest(request, token).catch((error: unknown) => error);
    const second = await verifier.verifyForRequest(request, token).catch((error: unknown) => error);
    expect(first).toBeInstanceOf(InvalidTokenError);
    expect(second).toBe(first);
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it('never reuses a verdict for another token on the same request', async () => {
    const good = await signDevToken({ sub: 'alice', roles: ['admin'] }, DEV_JWT_SECRET);
    const expired = await signDevToken({ sub: 'alice', roles: ['admin'], expiresIn: '-1h' }, DEV_JWT_SECRET);
    const request = {};
    await verifier.verifyForRequest(request, good);
    await expect(verifier.verifyForRequest(request, expired)).rejects.toEqual(new InvalidTokenError('token has expired'));
    await expect(verifier.verifyForRequest(request, `${good}x`)).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('verifies again, and refuses, a token that has expired since the first verification', async () => {
    const now = Date.now();
    jest.useFakeTimers({ now, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const token = await signDevToken({ sub: 'alice', roles: ['admin'], expiresIn: Math.floor(now / 1000) + 5 }, DEV_JWT_SECRET);
    const request = {};
    await expect(verifier.verifyForRequest(request, token)).resolves.toEqual({ id: 'alice', roles: ['admin'] });
    jest.setSystemTime(now + 20_000); // within the 30 s clock tolerance: still good
    await expect(verifier.verifyForRequest(request, token)).resolves.toEqual({ id: 'alice', roles: ['admin'] });
    jest.setSystemTime(now + 40_000);
    const spy = verifications();
    await expect(verifier.verifyForRequest(request, token)).rejects.toEqual(new InvalidTokenError('token has expired'));
    expect(spy).toHaveBeenCalledTimes(1);
  });
});

describe('JwtVerifier with an identity provider key set (RS256)', () => {
  const issuer = 'https://id.example.gov.vn';
  const audience = 'kcflow-api';
  let server: Server;
  let jwksUrl: string;
  let privateKey: CryptoKey;
  let verifier: JwtVerifier;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
    server = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
    verifier = new JwtVerifier({ jwksUrl, issuer, audience, jwtSecret: DEV_JWT_SECRET });
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function rs256(overrides: { iss?: string; aud?: string; kid?: string } = {}): Promise<string> {
    return new SignJWT({ roles: ['inspector'], name: 'Thanh tra' })
      .setProtectedHeader({ alg: 'RS256', kid: overrides.kid ?? 'key-1' })
      .setSubject('insp-1')
      .setIssuer(overrides.iss ?? issuer)
      .setAudience(overrides.aud ?? audience)
      .setExpirationTime('5m')
      .sign(privateKey);
  }

  it('accepts a token from the identity provider', async () => {
    await expect(verifier.verify(await rs256())).resolves.toEqual({ id: 'insp-1', roles: ['inspector'], name: 'Thanh tra' });
    expect(verifier.mode).toBe('jwks');
  });

  it('refuses another issuer or audience', async () => {
    expect(await refusal(verifier, await rs256({ iss: 'https://evil.example' }))).toBe('unexpected "iss" claim value');
    expect(await refusal(verifier, await rs256({ aud: 'another-api' }))).toBe('unexpected "aud" claim value');
  });

  it('refuses a development HS256 token, even one signed with the configured secret', async () => {
    const token = await signDevToken({ sub: 'alice', roles: ['admin'] }, DEV_JWT_SECRET);
    expect(await refusal(verifier, token)).toBe('signing algorithm not accepted');
  });

  it('refuses a token whose key is not in the key set', async () => {
    expect(await refusal(verifier, await rs256({ kid: 'key-2' }))).toBe('no single key of the identity provider matches the token');
  });

  it('reports an unreachable key set as unavailable, not as a bad token', async () => {
    const offline = new JwtVerifier({ jwksUrl: 'http://127.0.0.1:1/jwks.json', issuer, audience });
    await expect(offline.verify(await rs256())).rejects.toBeInstanceOf(TokenVerificationUnavailableError);
  });

  it('needs issuer and audience', () => {
    expect(() => new JwtVerifier({ jwksUrl, issuer })).toThrow(/issuer and audience/);
  });
});

describe('JwtVerifier: accepted tokens are kept for a while, refusals never', () => {
  let clock = 0;
  const now = () => clock;
  /** Counts the full verifications (signature and claims) the verifier makes. */
  const fullChecks = (verifier: JwtVerifier) => jest.spyOn(verifier as unknown as { verifyJwt(token: string): Promise<unknown> }, 'verifyJwt');
  const seconds = (ms: number) => Math.floor(ms / 1000);

  beforeEach(() => {
    clock = Date.now();
  });
  afterEach(() => jest.restoreAllMocks());

  it('verifies a token in full once, then takes the same token on trust within the time to live', async () => {
    const verifier = new JwtVerifier({ jwtSecret: DEV_JWT_SECRET }, { ttlMs: 60_000, now });
    const token = await signDevToken({ sub: 'alice', roles: ['finance'] }, DEV_JWT_SECRET);
    const checks = fullChecks(verifier);
    await expect(verifier.verify(token)).resolves.toEqual({ id: 'alice', roles: ['finance'] });
    clock += 59_000;
    await expect(verifier.verify(token)).resolves.toEqual({ id: 'alice', roles: ['finance'] });
    expect(checks).toHaveBeenCalledTimes(1);
    clock += 1_000; // the time to live is over: verified in full again
    await expect(verifier.verify(token)).resolves.toEqual({ id: 'alice', roles: ['finance'] });
    expect(checks).toHaveBeenCalledTimes(2);
  });

  it('never takes a token on trust past its expiry: it is verified again, and refused', async () => {
    const verifier = new JwtVerifier({ jwtSecret: DEV_JWT_SECRET }, { ttlMs: 600_000, now });
    const exp = seconds(clock) + 10;
    const token = await hs256({ sub: 'alice', roles: ['admin'], exp });
    await expect(verifier.verify(token)).resolves.toEqual({ id: 'alice', roles: ['admin'] });
    const checks = fullChecks(verifier);
    clock = exp * 1000 - 1;
    await expect(verifier.verify(token)).resolves.toEqual({ id: 'alice', roles: ['admin'] });
    expect(checks).toHaveBeenCalledTimes(0);
    clock = exp * 1000; // from "exp" on, only a full verification (with its clock tolerance) decides
    await verifier.verify(token);
    expect(checks).toHaveBeenCalledTimes(1);
    // jose reads the real clock: beyond the tolerance it refuses, and nothing of the earlier acceptance helps.
    jest.useFakeTimers({ now: (exp + 31) * 1000, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      clock = (exp + 31) * 1000;
      expect(await refusal(verifier, token)).toBe('token has expired');
      expect(await refusal(verifier, token)).toBe('token has expired');
    } finally {
      jest.useRealTimers();
    }
  });

  it('keeps no refusal: a refused token is verified in full every time', async () => {
    const verifier = new JwtVerifier({ jwtSecret: DEV_JWT_SECRET }, { now });
    const forged = await signDevToken({ sub: 'mallory', roles: ['admin'] }, 'another-secret-of-at-least-32-characters');
    const checks = fullChecks(verifier);
    expect(await refusal(verifier, forged)).toBe('signature verification failed');
    expect(await refusal(verifier, forged)).toBe('signature verification failed');
    expect(checks).toHaveBeenCalledTimes(2);
  });

  it('trusts only the very same string: a token differing in one character is verified, and refused', async () => {
    const verifier = new JwtVerifier({ jwtSecret: DEV_JWT_SECRET }, { now });
    const token = await signDevToken({ sub: 'alice', roles: ['admin'] }, DEV_JWT_SECRET);
    await verifier.verify(token);
    const [header, payload, signature] = token.split('.');
    const escalated = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'mallory' })).toString('base64url');
    expect(await refusal(verifier, `${header}.${escalated}.${signature}`)).toBe('signature verification failed');
    expect(await refusal(verifier, `${token}x`)).toMatch(/signature verification failed|malformed token/);
  });

  it('keeps at most maxEntries tokens, dropping the oldest', async () => {
    const verifier = new JwtVerifier({ jwtSecret: DEV_JWT_SECRET }, { maxEntries: 2, now });
    const tokens = await Promise.all(['a', 'b', 'c'].map((sub) => signDevToken({ sub, roles: ['reviewer'] }, DEV_JWT_SECRET)));
    for (const token of tokens) await verifier.verify(token);
    const checks = fullChecks(verifier);
    await verifier.verify(tokens[2]);
    await verifier.verify(tokens[1]);
    expect(checks).toHaveBeenCalledTimes(0);
    await verifier.verify(tokens[0]); // dropped to make room for the third
    expect(checks).toHaveBeenCalledTimes(1);
    expect((verifier as unknown as { accepted: Map<string, unknown> }).accepted.size).toBe(2);
  });

  it('with maxEntries 0, verifies every time', async () => {
    const verifier = new JwtVerifier({ jwtSecret: DEV_JWT_SECRET }, { maxEntries: 0, now });
    const token = await signDevToken({ sub: 'alice', roles: ['admin'] }, DEV_JWT_SECRET);
    const checks = fullChecks(verifier);
    await verifier.verify(token);
    await verifier.verify(token);
    expect(checks).toHaveBeenCalledTimes(2);
  });

  it('hands every request the same actor, which none can change for the others', async () => {
    const verifier = new JwtVerifier({ jwtSecret: DEV_JWT_SECRET }, { now });
    const token = await signDevToken({ sub: 'alice', roles: ['applicant'] }, DEV_JWT_SECRET);
    const actor = await verifier.verify(token);
    expect(() => actor.roles.push('admin')).toThrow(TypeError);
    expect(() => Object.assign(actor, { id: 'mallory' })).toThrow(TypeError);
    await expect(verifier.verify(token)).resolves.toEqual({ id: 'alice', roles: ['applicant'] });
  });
});
