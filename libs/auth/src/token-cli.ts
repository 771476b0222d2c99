import { parseArgs } from 'node:util';
import { isRole, ROLES, type Role } from './actor';
import { DEFAULT_DEV_TOKEN_LIFETIME, type DevTokenClaims } from './dev-token';

export const TOKEN_USAGE = `Prints a development bearer token (HS256, signed with AUTH_JWT_SECRET or the dev default).

Usage: npm run token -- --sub <actor id> --roles <role>[,<role>...] [--name "<display name>"] [--expires 8h]

  --sub      actor id (the token's "sub")
  --roles    comma-separated, from: ${ROLES.join(', ')}
  --name     optional display name
  --expires  lifetime: a number with s, m, h, d or w (default ${DEFAULT_DEV_TOKEN_LIFETIME})`;

/** Wrong command-line input; the message says what to fix. */
export class TokenArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenArgsError';
  }
}

export type TokenCommand = { help: true } | { help: false; claims: DevTokenClaims & { expiresIn: string } };

/** Parses the arguments of `npm run token` (scripts/token.ts). */
export function parseTokenArgs(argv: readonly string[]): TokenCommand {
  let values: { sub?: string; roles?: string; name?: string; expires?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        sub: { type: 'string' },
        roles: { type: 'string' },
        name: { type: 'string' },
        expires: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new TokenArgsError((error as Error).message);
  }
  if (values.help) return { help: true };

  const sub = values.sub?.trim();
  if (!sub) throw new TokenArgsError('--sub is required: the actor id, e.g. --sub alice');

  const roleNames = (values.roles ?? '')
    .split(',')
    .map((role) => role.trim())
    .filter((role) => role !== '');
  if (roleNames.length === 0) {
    throw new TokenArgsError(`--roles is required: one or more of ${ROLES.join(', ')} (comma-separated)`);
  }
  const unknown = roleNames.filter((role) => !isRole(role));
  if (unknown.length > 0) {
    const names = unknown.map((role) => `"${role}"`).join(', ');
    throw new TokenArgsError(`Unknown role ${names}; roles are: ${ROLES.join(', ')}`);
  }
  const roles = [...new Set(roleNames)] as Role[];

  const expiresIn = values.expires?.trim() ?? DEFAULT_DEV_TOKEN_LIFETIME;
  if (!/^[1-9]\d*[smhdw]$/.test(expiresIn)) {
    throw new TokenArgsError(`--expires must be a positive number with s, m, h, d or w, e.g. 30m or 8h (got "${expiresIn}")`);
  }

  const name = values.name?.trim();
  return { help: false, claims: { sub, roles, expiresIn, ...(name ? { name } : {}) } };
}
