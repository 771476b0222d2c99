/** The roles of API.md "Authentication and roles"; a token naming any other role is refused. */
export const ROLES = ['applicant', 'reviewer', 'committee', 'finance', 'inspector', 'admin'] as const;

export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Who is calling, as established from a verified bearer token. */
export interface Actor {
  id: string;
  roles: Role[];
  name?: string;
}
