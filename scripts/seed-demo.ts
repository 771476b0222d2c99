import { signDevToken, DEV_JWT_SECRET, Role } from '@kcflow/auth';
import { CATEGORIES, Category, DEFAULT_CAPS, capFor } from '@kcflow/domain';
import { SingleBar, Presets } from 'cli-progress';
import { parseArgs } from 'node:util';
import { FAMILY_NAMES, GIVEN_NAMES, HANOI_2024, PLACES, PROJECT_SHAPES } from './demo/hanoi-2024';

/**
 * `npm run seed:demo`: loads the 2024 Hanoi programme and a few hundred applications spread
 * over every stage, through the running API (so it works on any store, and the embedded
 * database is not opened twice). Deterministic: the same --seed gives the same data.
 */

const STAGES = ['submitted', 'revision_requested', 'reviewed', 'approved', 'evaluated', 'closed', 'rejected', 'withdrawn'] as const;
type Stage = (typeof STAGES)[number];
const STAGE_WEIGHTS: Record<Stage, number> = {
  submitted: 14, revision_requested: 8, reviewed: 12, approved: 20, evaluated: 16, closed: 16, rejected: 8, withdrawn: 6,
};

const { values: args } = parseArgs({
  options: {
    api: { type: 'string', default: process.env.KCFLOW_API_URL ?? `http://localhost:${process.env.PORT ?? 3000}` },
    applications: { type: 'string', default: '300' },
    seed: { type: 'string', default: '2024' },
    concurrency: { type: 'string', default: '8' },
    quiet: { type: 'boolean', default: false },
  },
});

/** mulberry32: a tiny seeded PRNG, so the demo is the same every time. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
/** Random choices for one purpose; each application has its own, so concurrency keeps the data the same. */
function chooser(seed: number) {
  const random = prng(seed);
  return {
    random,
    between: (min: number, max: number) => Math.round(min + random() * (max - min)),
    pick: <T>(items: readonly T[]) => items[Math.floor(random() * items.length)],
  };
}
const roundTo = (value: number, unit: number) => Math.max(unit, Math.floor(value / unit) * unit);

function weighted<T extends string>(random: () => number, weights: Record<T, number>): T {
  const entries = Object.entries(weights) as [T, number][];
  let roll = random() * entries.reduce((sum, [, w]) => sum + w, 0);
  for (const [key, weight] of entries) if ((roll -= weight) < 0) return key;
  return entries[0][0];
}

class Api {
  constructor(private readonly base: string, private readonly tokens: Record<Role, string>) {}

  async call(role: Role, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${this.tokens[role]}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  async must(role: Role, method: string, path: string, body?: unknown): Promise<any> {
    const { status, body: answer } = await this.call(role, method, path, body);
    if (status >= 300) throw new Error(`${method} ${path} answered ${status}: ${answer?.detail ?? JSON.stringify(answer)}`);
    return answer;
  }
}

/** One application, taken as far as its planned stage (or as far as the budget allows). */
async function seedApplication(api: Api, index: number, category: Category, stage: Stage, applicantToken: string): Promise<Stage> {
  const { random, between, pick } = chooser(Number(args.seed) * 100_003 + index);
  const shape = PROJECT_SHAPES[category];
  const place = pick(PLACES);
  const kind = pick(['enterprise', 'cooperative', 'household'] as const);
  const owner = `${pick(FAMILY_NAMES)} ${pick(GIVEN_NAMES)}`;
  const name = kind === 'household' ? `Hộ kinh doanh ${owner}` : kind === 'cooperative' ? `HTX ${place.craft} ${place.craftVillage ?? place.commune}` : `Công ty TNHH ${place.craft} ${place.commune} ${index}`;
  const totalCost = roundTo(between(...shape.cost), 1_000_000);
  const requestedAmount = roundTo(Math.min(capFor({ totalCost }, DEFAULT_CAPS[category]), totalCost * (0.3 + random() * 0.5)), 1_000_000);
  const expectedOutcomes = Object.fromEntries(Object.entries(shape.outcomes).map(([indicator, [min, max]]) => [indicator, between(min, max)]));
  const project = { title: `${shape.title} — ${place.craft}`, description: `Dự án ${shape.title.toLowerCase()} tại ${place.commune}, ${place.district}`, totalCost, requestedAmount, expectedOutcomes };
  const applicant = { name, taxCode: String(100_000_0000 + index * 7919).slice(0, 10), kind, district: place.district, commune: place.commune, ...(place.craftVillage ? { craftVillage: place.craftVillage } : {}) };

  const headers = { Authorization: `Bearer ${applicantToken}`, 'Content-Type': 'application/json' };
  const submitted = await fetch(`${args.api}/applications`, { method: 'POST', headers, body: JSON.stringify({ programmeId: HANOI_2024.id, category, applicant, project }) });
  const { id } = (await submitted.json()) as { id: string };
  if (submitted.status !== 201) throw new Error(`submit answered ${submitted.status}`);
  const at = (path: string) => `/applications/${id}/${path}`;
  const asApplicant = async (path: string, body: unknown) => {
    const res = await fetch(`${args.api}${at(path)}`, { method: 'POST', headers, body: JSON.stringify(body) });
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
  };

  if (stage === 'submitted') return stage;
  if (stage === 'revision_requested' || random() < 0.25) {
    await api.must('reviewer', 'POST', at('revision-requests'), { reason: 'Bổ sung báo giá và hồ sơ pháp lý' });
    if (stage === 'revision_requested') return stage;
    await asApplicant('amendments', { project });
  }
  if (stage === 'withdrawn') {
    await asApplicant('withdrawal', { reason: 'Cơ sở thay đổi kế hoạch sản xuất' });
    return stage;
  }
  const recommendedAmount = roundTo(requestedAmount * (0.8 + random() * 0.2), 1_000_000);
  await api.must('reviewer', 'POST', at('reviews'), {
    score: stage === 'rejected' ? between(20, 49) : between(60, 95),
    recommendation: stage === 'rejected' ? 'reject' : 'approve',
    recommendedAmount,
    priority: { womenLed: random() < 0.3, ethnicMinority: random() < 0.05 },
  });
  if (stage === 'reviewed') return stage;
  if (stage === 'rejected') {
    await api.must('committee', 'POST', at('rejection'), { reason: 'Không đáp ứng tiêu chí hỗ trợ', decisionNumber: `${1000 + index}/QĐ-UBND` });
    return stage;
  }
  const approval = await api.call('committee', 'POST', at('approval'), { decisionNumber: `${2000 + index}/QĐ-UBND`, decisionDate: '2024-04-15', approvedAmount: recommendedAmount });
  if (approval.status === 409) return 'reviewed'; // the category's budget ran out: it stays waiting
  if (approval.status !== 200) throw new Error(`approval answered ${approval.status}`);
  const advance = Math.floor(recommendedAmount * 0.7);
  await api.must('finance', 'POST', at('disbursements'), { paymentRef: `KBNN-2024-${String(index).padStart(5, '0')}-1`, amount: advance, paidAt: '2024-05-20' });
  if (stage === 'approved') return stage;
  const rating = random() < 0.85 ? 'achieved' : random() < 0.5 ? 'partially_achieved' : 'not_achieved';
  const outcomes = Object.fromEntries(Object.entries(expectedOutcomes).map(([k, v]) => [k, rating === 'achieved' ? v : Math.floor(v * (rating === 'partially_achieved' ? 0.6 : 0.2))]));
  await api.must('reviewer', 'POST', at('evaluation'), { outcomes, rating, notes: 'Nghiệm thu tại cơ sở' });
  if (rating !== 'not_achieved') {
    await api.must('finance', 'POST', at('disbursements'), { paymentRef: `KBNN-2024-${String(index).padStart(5, '0')}-2`, amount: recommendedAmount - advance, paidAt: '2024-11-10' });
  }
  if (stage === 'evaluated') return stage;
  await api.must('admin', 'POST', at('closure'), { reason: 'Quyết toán hoàn thành' });
  return 'closed';
}

async function main(): Promise<void> {
  const count = Number(args.applications);
  const concurrency = Number(args.concurrency);
  if (!Number.isInteger(count) || count < 0 || !Number.isInteger(concurrency) || concurrency < 1) {
    throw new Error('--applications and --concurrency must be whole numbers');
  }
  const secret = process.env.AUTH_JWT_SECRET ?? DEV_JWT_SECRET;
  const roles: Role[] = ['admin', 'reviewer', 'committee', 'finance', 'inspector', 'applicant'];
  const tokens = Object.fromEntries(await Promise.all(roles.map(async (role) => [role, await signDevToken({ sub: `demo-${role}`, roles: [role] }, secret)]))) as Record<Role, string>;
  const api = new Api(args.api, tokens);

  try {
    await fetch(`${args.api}/health/live`);
  } catch {
    throw new Error(`KCFlow does not answer at ${args.api}: start it first (npm start), or pass --api <url>`);
  }
  const opened = await api.call('admin', 'POST', '/programmes', HANOI_2024);
  if (opened.status === 409) {
    console.log(`Programme ${HANOI_2024.id} already exists: adding the demo applications to it.`);
  } else if (opened.status !== 201) {
    throw new Error(`Opening the programme answered ${opened.status}: ${opened.body?.detail}`);
  }

  const { random, pick } = chooser(Number(args.seed));
  const plan = Array.from({ length: count }, (_, index) => ({ index, category: pick(CATEGORIES), stage: weighted(random, STAGE_WEIGHTS) }));
  // Each applicant (a facility) signs in as itself, so it sees only its own applications.
  const applicantTokens = await Promise.all(plan.map(({ index }) => signDevToken({ sub: `demo-facility-${args.seed}-${index}`, roles: ['applicant'] }, secret)));
  const bar = new SingleBar({ format: 'Seeding demo applications [{bar}] {value}/{total} | {eta_formatted} left', noTTYOutput: true, notTTYSchedule: 2000 }, Presets.shades_classic);
  if (!args.quiet) bar.start(plan.length, 0);
  const reached: Record<string, number> = {};
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < plan.length) {
        const item = plan[next++];
        const stage = await seedApplication(api, item.index, item.category, item.stage, applicantTokens[item.index]);
        reached[stage] = (reached[stage] ?? 0) + 1;
        if (!args.quiet) bar.increment();
      }
    }),
  );
  if (!args.quiet) bar.stop();
  console.log(`Seeded ${count} applications into ${HANOI_2024.id}:`, STAGES.map((s) => `${s} ${reached[s] ?? 0}`).join(', '));
}

main().catch((error) => {
  console.error(`seed:demo failed: ${(error as Error).message}`);
  process.exit(1);
});
