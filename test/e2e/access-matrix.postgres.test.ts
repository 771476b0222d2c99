import { ACCESS_METADATA, ACCESS_POLICY, AccessDeclaration, AccessRule, DEV_JWT_SECRET, ROLES, Role, signDevToken } from '@kcflow/auth';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { describeWithPostgres } from '../support/services';
import { startTestApp, TestApp } from '../support/test-app';
import { Scenario, scenario } from './support/scenario';

/**
 * Every route × every caller → the status it must get, generated from ACCESS_POLICY (the
 * table the guard reads) joined with ROUTES below (which rule guards which route). The routes
 * themselves are discovered from Nest's metadata, so a new route that is not in ROUTES, or a
 * route guarded by another rule than ROUTES says, fails here before anything is sent.
 *
 * Probes write nothing: an allowed caller is answered 200 on a read, and 400 on a command,
 * whose probe body carries an unknown field (the guard runs before validation).
 */
const ROUTES: Record<string, AccessRule | 'public'> = {
  'POST /programmes': 'programmes.open',
  'POST /programmes/:id/allocations': 'programmes.manage',
  'POST /programmes/:id/targets': 'programmes.manage',
  'GET /programmes/:id': 'programmes.read',
  'GET /programmes/:id/budget': 'programmes.budget',
  'GET /programmes/:id/history': 'programmes.history',
  'GET /programmes/:id/integrity': 'programmes.integrity',
  'POST /applications': 'applications.submit',
  'GET /applications': 'applications.list',
  'GET /applications/:id': 'applications.read',
  'POST /applications/:id/revision-requests': 'applications.requestRevision',
  'POST /applications/:id/amendments': 'applications.amend',
  'POST /applications/:id/reviews': 'applications.review',
  'POST /applications/:id/approval': 'applications.approve',
  'POST /applications/:id/rejection': 'applications.reject',
  'POST /applications/:id/withdrawal': 'applications.withdraw',
  'POST /applications/:id/disbursements': 'applications.disburse',
  'POST /applications/:id/evaluation': 'applications.evaluate',
  'POST /applications/:id/closure': 'applications.close',
  'POST /applications/:id/recusals': 'applications.recuse',
  'GET /applications/:id/history': 'applications.history',
  'GET /applications/:id/integrity': 'applications.integrity',
  'GET /applications/:id/dossier': 'applications.dossier',
  'GET /projections': 'projections.read',
  'POST /projections/:name/rebuild': 'projections.rebuild',
  'GET /reports/budget': 'reports.read',
  'GET /reports/budget.csv': 'reports.read',
  'GET /reports/budget.xlsx': 'reports.read',
  'GET /reports/outcomes': 'reports.read',
  'GET /reports/outcomes.csv': 'reports.read',
  'GET /reports/outcomes.xlsx': 'reports.read',
  'GET /health/live': 'public',
  'GET /health/ready': 'public',
  'GET /metrics': 'public',
  // Present only while the documented development secret signs tokens, as it does here.
  'GET /dev/tokens': 'public',
  'POST /dev/tokens': 'public',
};

/**
 * Routes where an applicant may act only on its own application: another applicant is
 * refused (403) by the handler, given a body valid enough to reach it.
 */
const OWNER_ONLY: Record<string, object | undefined> = {
  'GET /applications/:id': undefined,
  'POST /applications/:id/amendments': {
    project: { title: 'x', description: 'x', totalCost: 600_000_000, requestedAmount: 300_000_000, expectedOutcomes: {} },
  },
  'POST /applications/:id/withdrawal': { reason: 'not mine' },
};

type Caller = Role | 'no token' | 'expired token' | 'wrong signature' | 'applicant of another application';
const CALLERS: Caller[] = [...ROLES, 'no token', 'expired token', 'wrong signature', 'applicant of another application'];

function expectedStatus(route: string, caller: Caller): number {
  const rule = ROUTES[route];
  const success = route.startsWith('GET ') ? 200 : 400;
  if (rule === 'public') return success;
  if (caller === 'no token' || caller === 'expired token' || caller === 'wrong signature') return 401;
  const allowed: readonly Role[] = ACCESS_POLICY[rule];
  if (caller === 'applicant of another application') {
    if (!allowed.includes('applicant')) return 403;
    return route in OWNER_ONLY ? 403 : success;
  }
  return allowed.includes(caller) ? success : 403;
}

/** "METHOD /path" and the declaration of every route the Nest application serves. */
function discoverRoutes(t: TestApp): Map<string, AccessDeclaration | undefined> {
  const routes = new Map<string, AccessDeclaration | undefined>();
  for (const module of t.nest!.get(ModulesContainer).values()) {
    for (const { metatype } of module.controllers.values()) {
      const controller = metatype as new () => object;
      const base = [Reflect.getMetadata(PATH_METADATA, controller)].flat()[0] ?? '';
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, unknown>)[name];
        if (typeof handler !== 'function' || Reflect.getMetadata(METHOD_METADATA, handler) === undefined) continue;
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
        const path = `/${base}/${[Reflect.getMetadata(PATH_METADATA, handler)].flat()[0] ?? ''}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
        const declaration: AccessDeclaration | undefined =
          Reflect.getMetadata(ACCESS_METADATA, handler) ?? Reflect.getMetadata(ACCESS_METADATA, controller);
        routes.set(`${method} ${path}`, declaration);
      }
    }
  }
  return routes;
}

describeWithPostgres('Access matrix: every route × every caller', () => {
  let t: TestApp;
  let s: Scenario;
  let programmeId: string;
  let applicationId: string;
  const tokenOf = {} as Record<Caller, string | undefined>;

  beforeAll(async () => {
    t = await startTestApp('postgres', { env: { RATE_LIMIT_PER_MINUTE: '0' } });
    s = await scenario(t);
    programmeId = await s.openProgramme();
    applicationId = await s.submit(programmeId);
    for (const role of ROLES) tokenOf[role] = role === 'applicant' ? s.tokens.applicant : await t.token(role, `${role}-matrix`);
    tokenOf['no token'] = undefined;
    tokenOf['expired token'] = await signDevToken({ sub: 'admin-1', roles: [...ROLES], expiresIn: '-1h' }, DEV_JWT_SECRET);
    tokenOf['wrong signature'] = await signDevToken({ sub: 'admin-1', roles: [...ROLES] }, 'not-the-secret-of-this-server-0123456789');
    tokenOf['applicant of another application'] = s.tokens.otherApplicant;
    await t.settle();
  }, 60_000);

  afterAll(async () => t?.close(), 30_000);

  it('the route table covers every route the application serves, each guarded by the rule the table names', () => {
    const served = discoverRoutes(t);
    const declared = Object.fromEntries(
      [...served].map(([route, d]) => [route, d === undefined ? 'UNDECLARED' : d.public ? 'public' : d.rule]),
    );
    expect(declared).toEqual(ROUTES);
  });

  const cases = Object.keys(ROUTES).flatMap((route) => CALLERS.map((caller) => [route, caller, expectedStatus(route, caller)] as const));

  it.each(cases)('%s as %s → %i', async (route, caller, expected) => {
    const [method, pattern] = route.split(' ');
    const path = pattern.replace(':id', pattern.startsWith('/programmes') ? programmeId : applicationId).replace(':name', 'budget');
    const ownerBody = caller === 'applicant of another application' ? OWNER_ONLY[route] : undefined;
    const before = await s.eventCount(applicationId);

    let req = method === 'GET' ? t.http().get(path) : t.http().post(path).send(ownerBody ?? { kcflowProbe: true });
    const token = tokenOf[caller];
    if (token) req = req.set('Authorization', `Bearer ${token}`);
    const res = await req;

    expect({ status: res.status, detail: res.body?.detail }).toMatchObject({ status: expected });
    if (expected >= 400) expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    if (expected === 401) expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    if (route === 'GET /applications' && caller === 'applicant of another application') {
      expect(res.body.items.map((i: { id: string }) => i.id)).not.toContain(applicationId);
    }
    expect(await s.eventCount(applicationId)).toBe(before);
  });
});
