import { DEV_JWT_SECRET, Role, signDevToken } from '@kcflow/auth';

/** Development tokens (the documented development secret), as `npm run token` signs them. */
export async function tokens(prefix = 'bench'): Promise<Record<Role, string>> {
  const roles: Role[] = ['admin', 'reviewer', 'committee', 'finance', 'inspector', 'applicant'];
  const entries = await Promise.all(roles.map(async (role) => [role, await signDevToken({ sub: `${prefix}-${role}`, roles: [role] }, process.env.AUTH_JWT_SECRET ?? DEV_JWT_SECRET)] as const));
  return Object.fromEntries(entries) as Record<Role, string>;
}
