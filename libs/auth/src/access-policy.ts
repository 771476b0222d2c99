import { ROLES, type Actor, type Role } from './actor';

/**
 * Who may call what: the single source of truth, read by the guard (`@Access(rule)`) and
 * documented into the OpenAPI document. Rules from API.md; where it is silent, the choice is
 * commented. Row-level limits (an applicant sees and acts on only its own applications) are
 * not expressible here and are enforced by the handlers named in the comments.
 */
export const ACCESS_POLICY = {
  'programmes.open': ['admin'],
  // Change an allocation or the targets of an open programme.
  'programmes.manage': ['admin'],
  // API.md is silent: every signed-in role may read a programme (applicants need its
  // categories and caps to apply).
  'programmes.read': ROLES,
  'programmes.budget': ['admin', 'committee', 'finance', 'inspector'],
  'programmes.history': ['inspector', 'admin'],
  'programmes.integrity': ['inspector', 'admin'],

  'applications.submit': ['applicant'],
  // Applicants: only their own application (enforced by the query handler).
  'applications.read': ROLES,
  // API.md is silent: every role; applicants see only their own (the query handler filters).
  'applications.list': ROLES,
  'applications.requestRevision': ['reviewer'],
  // Applicants act only on their own applications (enforced by the command handlers).
  'applications.amend': ['applicant'],
  'applications.withdraw': ['applicant'],
  'applications.review': ['reviewer'],
  'applications.approve': ['committee'],
  'applications.reject': ['committee'],
  'applications.disburse': ['finance'],
  'applications.evaluate': ['reviewer'],
  'applications.close': ['admin'],
  'applications.recuse': ['reviewer'],
  'applications.history': ['inspector', 'admin'],
  'applications.integrity': ['inspector', 'admin'],
  'applications.dossier': ['inspector', 'admin'],

  // API.md is silent: the roles that manage, decide on, pay for or audit programmes.
  'reports.read': ['admin', 'committee', 'finance', 'inspector'],
  'projections.read': ['admin', 'inspector'],
  // API.md is silent: replaying every event into fresh tables is the programme manager's call.
  'projections.rebuild': ['admin'],
} as const satisfies Record<string, readonly Role[]>;

export type AccessRule = keyof typeof ACCESS_POLICY;

export const ACCESS_RULES = Object.keys(ACCESS_POLICY) as AccessRule[];

export function rolesAllowed(rule: AccessRule): readonly Role[] {
  return ACCESS_POLICY[rule];
}

export function mayAccess(actor: Pick<Actor, 'roles'>, rule: AccessRule): boolean {
  const allowed: readonly Role[] = ACCESS_POLICY[rule];
  return actor.roles.some((role) => allowed.includes(role));
}
