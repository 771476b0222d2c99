import type { Role } from '@kcflow/auth';
import fc from 'fast-check';
import { request as httpRequest } from 'node:http';
import { startTestApp, TestApp } from '../support/test-app';
import { Scenario, scenario } from './support/scenario';

/**
 * Bad input, tried as an attacker would (issue 9, item 6), against the built server in a
 * process of its own, so "the process stays up" is literal. Every body is invalid by
 * construction — a valid body with one hostile change — so every answer must be a 4xx
 * problem, and the store's head position must not move.
 */
const RUNS = Number(process.env.HOSTILE_RUNS ?? 60);

const project = () => ({
  title: 'Máy chẻ nan',
  description: 'Dây chuyền',
  totalCost: 600_000_000,
  requestedAmount: 300_000_000,
  expectedOutcomes: { jobs_created: 12 },
});

/** Each command route, the role allowed to call it, and a body it would accept. */
const COMMANDS: Array<{ route: string; role: Role; body: () => Record<string, unknown> }> = [
  {
    route: 'POST /programmes',
    role: 'admin',
    body: () => ({ id: 'HN-hostile', name: 'Kế hoạch', year: 2024, fundingSource: 'city', allocations: { advanced_equipment: 1_000_000_000 }, targets: { new_designs: { min: 1, max: 2 } } }),
  },
  { route: 'POST /programmes/:programme/allocations', role: 'admin', body: () => ({ category: 'product_design', amount: 5_000_000 }) },
  { route: 'POST /programmes/:programme/targets', role: 'admin', body: () => ({ targets: { new_designs: { min: 10, max: 20 } } }) },
  {
    route: 'POST /applications',
    role: 'applicant',
    body: () => ({
      programmeId: ':programme',
      category: 'advanced_equipment',
      applicant: { name: 'HTX Phú Vinh', taxCode: '0101234567', kind: 'cooperative', district: 'Chương Mỹ', commune: 'Phú Nghĩa', craftVillage: 'Phú Vinh' },
      project: project(),
    }),
  },
  { route: 'POST /applications/:id/revision-requests', role: 'reviewer', body: () => ({ reason: 'Thiếu báo giá' }) },
  { route: 'POST /applications/:id/amendments', role: 'applicant', body: () => ({ project: project() }) },
  { route: 'POST /applications/:id/reviews', role: 'reviewer', body: () => ({ score: 80, recommendation: 'approve', recommendedAmount: 300_000_000, notes: 'Tốt' }) },
  { route: 'POST /applications/:id/approval', role: 'committee', body: () => ({ decisionNumber: '1/QĐ-UBND', decisionDate: '2024-05-02', approvedAmount: 300_000_000 }) },
  { route: 'POST /applications/:id/rejection', role: 'committee', body: () => ({ reason: 'Không đạt', decisionNumber: '2/QĐ-UBND' }) },
  { route: 'POST /applications/:id/withdrawal', role: 'applicant', body: () => ({ reason: 'Rút hồ sơ' }) },
  { route: 'POST /applications/:id/disbursements', role: 'finance', body: () => ({ paymentRef: 'KBNN-1', amount: 1_000_000, paidAt: '2024-06-01' }) },
  { route: 'POST /applications/:id/evaluation', role: 'reviewer', body: () => ({ outcomes: { jobs_created: 10 }, rating: 'achieved', notes: 'Đạt' }) },
  { route: 'POST /applications/:id/closure', role: 'admin', body: () => ({ reason: 'Quyết toán' }) },
  { route: 'POST /applications/:id/recusals', role: 'reviewer', body: () => ({ reason: 'Người thân' }) },
];

/** Every path into a body: ['project'], ['project', 'totalCost'], … */
function pathsOf(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, v]) => [[...prefix, key], ...pathsOf(v, [...prefix, key])]);
}

/** Paths to the nested objects of a body, where an unknown field can hide. */
function objectPaths(body: Record<string, unknown>): string[][] {
  return pathsOf(body).filter((p) => {
    const value = p.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], body);
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  });
}

function withField(body: Record<string, unknown>, path: string[], key: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(body);
  const node = path.reduce<Record<string, unknown>>((n, k) => n[k] as Record<string, unknown>, copy);
  Object.defineProperty(node, key, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

function replaced(body: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(body);
  let node = copy as Record<string, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[path[path.length - 1]] = value;
  return copy;
}

/**
 * Values no field of any command accepts: too long for every text field (5000 at most),
 * negative, fractional or beyond 2^53 for every number, of the wrong type for every enum,
 * date and object, text the store cannot hold. (null and "" are left out: optional fields
 * accept them, which would make a valid body.)
 */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: 5_001, max: 300_000 }).map((n) => 'ả'.repeat(n)),
  fc.integer({ max: -1 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Number.isInteger(x)),
  fc.constantFrom(2 ** 53, 1e21, 1e308, -1e308, Number.MAX_VALUE, -0.5),
  fc.boolean(),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
  fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).map((k) => `x-${k}`), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1, maxKeys: 3 }),
  fc.constantFrom('\u0000', 'a\u0000b', '\ud800', 'x\udc00y', 'Phú\ud83d'),
);

type Payload = { kind: string; contentType: string; data: string | Buffer };
const json = (kind: string, data: string | Buffer): Payload => ({ kind, contentType: 'application/json', data });

/** The hostile bodies for one command, each a named kind of attack. */
function hostileBodies(valid: Record<string, unknown>, allowedKeys: string[]): fc.Arbitrary<Payload> {
  const paths = pathsOf(valid);
  const path = fc.constantFrom(...paths);
  const text = JSON.stringify(valid);
  return fc.oneof(
    // Wrong types, huge strings and numbers, negative money, text the store cannot hold.
    fc.tuple(path, hostileValue).map(([p, v]) => json(`${p.join('.')} := hostile`, JSON.stringify(replaced(valid, p, v)))),
    // Unknown fields, at the top or nested in an object.
    fc.tuple(fc.constantFrom<string[]>([], ...objectPaths(valid)), fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue({ maxDepth: 1 }))
      .filter(([, key]) => !allowedKeys.includes(key) && key !== '__proto__')
      .map(([p, key, v]) => json(`unknown field ${[...p, key].join('.')}`, JSON.stringify(withField(valid, p, key, v)))),
    // Prototype pollution, as literal keys (JSON.stringify would drop a __proto__ property).
    fc
      .constantFrom('"__proto__":{"isAdmin":true}', '"constructor":{"prototype":{"isAdmin":true}}', '"prototype":{"isAdmin":true}', '"__proto__":null')
      .map((member) => json(`pollution ${member}`, `{${member},${text.slice(1)}`)),
    fc.tuple(path, fc.constantFrom('"__proto__":{"polluted":1}', '"constructor":{"prototype":{"polluted":1}}')).map(([p, member]) =>
      json(`nested pollution at ${p.join('.')}`, JSON.stringify(replaced(valid, p, '@@MEMBER@@')).replace('"@@MEMBER@@"', `{${member}}`)),
    ),
    // Deep nesting.
    fc.tuple(path, fc.integer({ min: 33, max: 100_000 }), fc.boolean()).map(([p, depth, arrays]) => {
      const [open, close] = arrays ? ['[', ']'] : ['{"a":', '}'];
      const deep = `${open.repeat(depth)}1${close.repeat(depth)}`;
      return json(`nesting ${depth} at ${p.join('.')}`, JSON.stringify(replaced(valid, p, '@@DEEP@@')).replace('"@@DEEP@@"', deep));
    }),
    // Invalid UTF-8 inside a string (a key or a value).
    fc
      .tuple(
        fc.integer({ min: 0, max: (text.match(/"/g) ?? []).length - 1 }),
        fc.constantFrom([0xff], [0xfe, 0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80]),
      )
      .map(([quote, bytes]) => {
        const at = [...text.matchAll(/"/g)][quote - (quote % 2)].index! + 1; // just inside an opening quote
        const buffer = Buffer.from(text, 'utf8');
        const offset = Buffer.byteLength(text.slice(0, at), 'utf8');
        return json(`invalid UTF-8 ${bytes.map((b) => b.toString(16)).join(' ')}`, Buffer.concat([buffer.subarray(0, offset), Buffer.from(bytes), buffer.subarray(offset)]));
      }),
    // Not an object at all, or an object of other fields entirely.
    fc.jsonValue({ maxDepth: 3 }).filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)).map((v) => json('not an object', JSON.stringify(v))),
    fc
      .dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 3 }), { minKeys: 1, maxKeys: 6 })
      .filter((d) => Object.keys(d).some((k) => !allowedKeys.includes(k)))
      .map((d) => json('random object', JSON.stringify(d))),
    // Malformed JSON, and bodies that are not JSON.
    fc.integer({ min: 1, max: text.length - 1 }).map((cut) => json('truncated JSON', text.slice(0, cut))),
    fc.constantFrom('', ' ', '{"a":1,}', "{'a':1}", 'NaN', '{"a":1e999999}').map((raw) => json(`malformed ${JSON.stringify(raw)}`, raw)),
    fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/xml').map((contentType) => ({ kind: `as ${contentType}`, contentType, data: text })),
  );
}

describe('Hostile input against every command (built server, PGlite)', () => {
  let t: TestApp;
  let s: Scenario;
  let programmeId: string;
  let applicationId: string;
  const tokens = {} as Record<Role, string>;

  beforeAll(async () => {
    t = await startTestApp('pglite', { env: { RATE_LIMIT_PER_MINUTE: '0' } });
    s = await scenario(t);
    Object.assign(tokens, s.tokens);
    programmeId = await s.openProgramme();
    applicationId = await s.submit(programmeId);
  }, 120_000);

  afterAll(async () => t?.close(), 30_000);

  /** Where the store stands: any append anywhere moves it. */
  async function head(): Promise<string | null> {
    await t.settle();
    const res = await s.get('/projections', tokens.inspector).expect(200);
    return res.body.head;
  }

  const pathOf = (route: string) => route.split(' ')[1].replace(':programme', programmeId).replace(':id', applicationId);

  for (const command of COMMANDS) {
    it(`${command.route}: ${RUNS} hostile bodies → 4xx problem, nothing written`, async () => {
      const valid = JSON.parse(JSON.stringify(command.body()).replace('":programme"', JSON.stringify(programmeId)));
      const allowed = pathsOf(valid).map((p) => p[p.length - 1]);
      const before = await head();
      await fc.assert(
        fc.asyncProperty(hostileBodies(valid, allowed), async (payload) => {
          const res = await t
            .http()
            .post(pathOf(command.route))
            .set('Authorization', `Bearer ${tokens[command.role]}`)
            .set('Content-Type', payload.contentType)
            .send(payload.data);
          const seen = { kind: payload.kind, status: res.status, contentType: res.headers['content-type'], problem: res.body };
          const problem = /^application\/problem\+json/.test(seen.contentType ?? '') && res.body.status === res.status;
          if (!(res.status >= 400 && res.status < 500 && problem)) throw new Error(`not a 4xx problem: ${JSON.stringify(seen)}`);
        }),
        { numRuns: RUNS },
      );
      expect(await head()).toBe(before);
    }, 120_000);
  }

  it('a 10 MB body on every command route → 413 problem; nothing written', async () => {
    const before = await head();
    const huge = Buffer.alloc(10 * 1024 * 1024, 'a');
    for (const command of COMMANDS) {
      for (const chunked of [false, true]) {
        const headers = { Authorization: `Bearer ${tokens[command.role]}`, 'Content-Type': 'application/json' };
        const res = await postUntilAnswered(`${t.baseUrl}${pathOf(command.route)}`, headers, huge, chunked);
        expect({ route: command.route, chunked, status: res.status }).toEqual({ route: command.route, chunked, status: 413 });
        expect(res.contentType).toMatch(/^application\/problem\+json/);
      }
    }
    expect(await head()).toBe(before);
  }, 60_000);

  it('the process is still up and still serves valid commands', async () => {
    await t.http().get('/health/ready').expect(200);
    await s.post(`/applications/${applicationId}/reviews`, tokens.reviewer, { score: 80, recommendation: 'approve' }).expect(200);
  });
});

/**
 * The server may close the connection on a body it refuses before this client has read the
 * 413 (the close then shows as EPIPE or a reset while writing): like a real client, try again;
 * whichever attempt is answered must be answered 413.
 */
async function postUntilAnswered(url: string, headers: Record<string, string>, body: Buffer, chunked: boolean) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await rawPost(url, headers, body, chunked);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (attempt >= 5 || (code !== 'EPIPE' && code !== 'ECONNRESET')) throw error;
    }
  }
}

/**
 * A POST of a large body that, like a careful client, watches for the answer while it
 * writes, and stops writing once it has come: the server answers 413 as soon as it knows the
 * body is too large (at once from a Content-Length, or once the chunks pass the limit) and
 * then closes, so a client that kept writing would meet a reset instead of the answer.
 */
function rawPost(url: string, headers: Record<string, string>, body: Buffer, chunked = false): Promise<{ status: number; contentType?: string }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest(url, { method: 'POST', headers: chunked ? headers : { ...headers, 'Content-Length': String(body.length) } }, (res) => {
      answered = true;
      res.resume();
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] });
        req.destroy();
      });
    });
    req.on('error', (error) => answered || reject(error));
    const CHUNK = 64 * 1024;
    const writeFrom = (offset: number): void => {
      if (answered || req.destroyed) return;
      if (offset >= body.length) return void req.end();
      req.write(body.subarray(offset, offset + CHUNK), () => setTimeout(() => writeFrom(offset + CHUNK), 1));
    };
    writeFrom(0);
  });
}
