/**
 * `node dist/bench/micro/jwt-verify.js`: what the bearer-token check costs per request.
 * - jose given the secret as bytes: it imports the HMAC key on every call (JwtVerifier before
 *   the key was imported once);
 * - jose given a CryptoKey imported once, and JwtVerifier.verify, which now does that;
 * - per request with the rate limiter on: two verifications (limiter, then guard), as before,
 *   against JwtVerifier.verifyForRequest called by both, which verifies once;
 * - JwtVerifier.verify of a token it has accepted before (the client's next request), taken
 *   from its cache of accepted tokens, against a full verification (that cache off).
 * Evidence for RESULTS.md; not part of `npm run bench`.
 */
import { webcrypto } from 'node:crypto';
import { jwtVerify } from 'jose';
import { DEV_JWT_SECRET, JwtVerifier, signDevToken } from '@kcflow/auth';

async function perCall(verify: () => Promise<unknown>, n = 20_000): Promise<number> {
  for (let i = 0; i < 2_000; i++) await verify();
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await verify();
  return Number(process.hrtime.bigint() - started) / 1e3 / n;
}

async function main(): Promise<void> {
  const token = await signDevToken({ sub: 'bench-applicant', roles: ['applicant'] }, DEV_JWT_SECRET);
  // Full verification every time, as before accepted tokens were kept.
  const verifier = new JwtVerifier({ jwtSecret: DEV_JWT_SECRET }, { maxEntries: 0 });
  const caching = new JwtVerifier({ jwtSecret: DEV_JWT_SECRET });
  const bytes = new TextEncoder().encode(DEV_JWT_SECRET);
  const key = await webcrypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  const options = { requiredClaims: ['sub', 'exp'], clockTolerance: 30, algorithms: ['HS256'] };
  for (let round = 1; round <= 2; round++) {
    const asBytes = await perCall(() => jwtVerify(token, bytes, options));
    const imported = await perCall(() => jwtVerify(token, key, options));
    const verify = await perCall(() => verifier.verify(token));
    const cached = await perCall(() => caching.verify(token));
    const twice = await perCall(async () => {
      await jwtVerify(token, bytes, options);
      await jwtVerify(token, bytes, options);
    });
    const once = await perCall(async () => {
      const request = {};
      await verifier.verifyForRequest(request, token); // the rate limiter
      await verifier.verifyForRequest(request, token); // the guard
    });
    console.log(
      `round ${round}: per check: jose with the secret as bytes ${asBytes.toFixed(1)} µs; with a CryptoKey imported once ${imported.toFixed(1)} µs (${(imported / asBytes).toFixed(2)}×); ` +
        `JwtVerifier.verify ${verify.toFixed(1)} µs (${(verify / asBytes).toFixed(2)}×)`,
    );
    console.log(
      `round ${round}: per request, rate limiter + guard: before (2 checks, bytes) ${twice.toFixed(1)} µs; now (verifyForRequest, 1 check) ${once.toFixed(1)} µs (${(once / twice).toFixed(2)}×)`,
    );
    console.log(`round ${round}: a token accepted before, from the cache: ${cached.toFixed(1)} µs (${(cached / verify).toFixed(3)}× a full JwtVerifier.verify)`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
