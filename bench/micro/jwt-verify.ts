/**
 * `node dist/bench/micro/jwt-verify.js`: what one bearer-token check costs, as JwtVerifier does it
 * today (jose with the secret as bytes, so the HMAC key is imported on every call) and with the
 * key imported once as a CryptoKey. Evidence for RESULTS.md; not part of `npm run bench`.
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
  const verifier = new JwtVerifier({ jwtSecret: DEV_JWT_SECRET });
  const bytes = new TextEncoder().encode(DEV_JWT_SECRET);
  const key = await webcrypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  const options = { requiredClaims: ['sub', 'exp'], clockTolerance: 30, algorithms: ['HS256'] };
  for (let round = 1; round <= 2; round++) {
    const today = await perCall(() => verifier.verify(token));
    const imported = await perCall(() => jwtVerify(token, key, options));
    console.log(`round ${round}: JwtVerifier.verify ${today.toFixed(1)} µs per call; jose with a CryptoKey imported once ${imported.toFixed(1)} µs (${(imported / today).toFixed(2)}×)`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
