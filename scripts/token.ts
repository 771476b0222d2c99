/**
 * `npm run token -- --sub alice --roles committee` prints a development bearer token.
 * Run compiled (node dist/scripts/token.js). Only the token goes to stdout, so
 * `TOKEN=$(npm run -s token -- ...)` works; notes go to stderr.
 */
import { DEV_JWT_SECRET, parseTokenArgs, signDevToken, TOKEN_USAGE, TokenArgsError } from '@kcflow/auth';

async function main(): Promise<number> {
  let command;
  try {
    command = parseTokenArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof TokenArgsError)) throw error;
    process.stderr.write(`${error.message}\n\n${TOKEN_USAGE}\n`);
    return 2;
  }
  if (command.help) {
    process.stdout.write(`${TOKEN_USAGE}\n`);
    return 0;
  }

  const secret = process.env.AUTH_JWT_SECRET?.trim() || DEV_JWT_SECRET;
  if (secret === DEV_JWT_SECRET) process.stderr.write('note: signed with the development default secret\n');
  if (process.env.AUTH_JWKS_URL?.trim()) {
    process.stderr.write('warning: AUTH_JWKS_URL is set, so the API refuses HS256 development tokens\n');
  }
  process.stdout.write(`${await signDevToken(command.claims, secret)}\n`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`token: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
