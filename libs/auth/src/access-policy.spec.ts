import { ACCESS_POLICY, ACCESS_RULES, mayAccess, type AccessRule } from './access-policy';
import { ROLES, type Role } from './actor';

describe('ACCESS_POLICY', () => {
  it('names only known roles, each rule at least one, without duplicates', () => {
    for (const rule of ACCESS_RULES) {
      const roles: readonly string[] = ACCESS_POLICY[rule];
      expect(roles.length).toBeGreaterThan(0);
      expect(roles.every((role) => (ROLES as readonly string[]).includes(role))).toBe(true);
      expect(new Set(roles).size).toBe(roles.length);
    }
  });

  // The role column of API.md, one line per route; a change to the contract must show up here.
  const fromApiMd: [AccessRule, Role[]][] = [
    ['programmes.open', ['admin']],
    ['programmes.budget', ['admin', 'committee', 'finance', 'inspector']],
    ['programmes.history', ['admin', 'inspector']],
    ['programmes.integrity', ['admin', 'inspector']],
    ['applications.submit', ['applicant']],
    ['applications.requestRevision', ['reviewer']],
    ['applications.amend', ['applicant']],
    ['applications.review', ['reviewer']],
    ['applications.approve', ['committee']],
    ['applications.reject', ['committee']],
    ['applications.withdraw', ['applicant']],
    ['applications.disburse', ['finance']],
    ['applications.evaluate', ['reviewer']],
    ['applications.close', ['admin']],
    ['applications.recuse', ['reviewer']],
    ['applications.history', ['admin', 'inspector']],
    ['applications.integrity', ['admin', 'inspector']],
    ['applications.dossier', ['admin', 'inspector']],
    ['projections.read', ['admin', 'inspector']],
  ];
  it.each(fromApiMd)('%s is open to exactly %j, as API.md says', (rule, roles) => {
    expect([...ACCESS_POLICY[rule]].sort()).toEqual([...roles].sort());
  });

  // Where API.md is silent: the decisions, pinned.
  it('lets every role read programmes and read or list applications (applicants: their own, in the handler)', () => {
    for (const rule of ['programmes.read', 'applications.read', 'applications.list'] as const) {
      expect([...ACCESS_POLICY[rule]].sort()).toEqual([...ROLES].sort());
    }
  });

  it('keeps reports from applicants and reviewers', () => {
    expect([...ACCESS_POLICY['reports.read']].sort()).toEqual(['admin', 'committee', 'finance', 'inspector']);
  });

  it('lets only the admin rebuild a projection', () => {
    expect(ACCESS_POLICY['projections.rebuild']).toEqual(['admin']);
  });
});

describe('mayAccess', () => {
  it('allows an actor holding any one of the listed roles', () => {
    expect(mayAccess({ roles: ['reviewer', 'committee'] }, 'applications.approve')).toBe(true);
  });

  it('refuses an actor holding none of them, or no role at all', () => {
    expect(mayAccess({ roles: ['finance', 'inspector'] }, 'applications.approve')).toBe(false);
    expect(mayAccess({ roles: [] }, 'programmes.read')).toBe(false);
  });
});
