import autocannon from 'autocannon';
import type { Role } from '@kcflow/auth';
import { CATEGORIES, shareOf } from '@kcflow/domain';
import { applicationPayload, openProgrammeCommand, prng } from '../lib/lifecycles';

/** What the programmes need before the load: opened through the API, each with a large allocation. */
export async function openProgrammes(baseUrl: string, adminToken: string, count: number, prefix: string): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-P${i + 1}`);
  const open = async (id: string, i: number) => {
    const { data } = openProgrammeCommand(id, 2015 + (i % 10));
    const response = await fetch(`${baseUrl}/programmes`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ id, name: data.name, year: data.year, fundingSource: data.fundingSource, allocations: data.allocations, targets: data.targets }),
    });
    if (response.status !== 201) throw new Error(`opening programme ${id} answered ${response.status}: ${await response.text()}`);
  };
  for (let i = 0; i < ids.length; i += 8) await Promise.all(ids.slice(i, i + 8).map((id, j) => open(id, i + j)));
  return ids;
}

export interface CommandLoadOptions {
  baseUrl: string;
  connections: number;
  seconds: number;
  programmes: readonly string[];
  tokens: Record<Role, string>;
  /** Distinguishes the payment references of separate loads on the same store. */
  runId: string;
}

/**
 * Each connection walks applications through submit → review → approve → disburse (the
 * advance), one request at a time, round-robin over the programmes so that no programme
 * stream becomes the bottleneck; every request is a command.
 */
export function commandLoad(options: CommandLoadOptions): Promise<autocannon.Result> {
  const random = prng(11);
  const payloads = Array.from({ length: 512 }, (_, i) => {
    const category = CATEGORIES[i % CATEGORIES.length];
    return { category, ...applicationPayload(random, i, category) };
  });
  let next = 0;
  const headers = (role: Role) => ({ Authorization: `Bearer ${options.tokens[role]}`, 'Content-Type': 'application/json' });
  type Context = { id?: string; amount?: number; n?: number };
  return autocannon({
    url: options.baseUrl,
    connections: options.connections,
    duration: options.seconds,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: '/applications',
        headers: headers('applicant'),
        setupRequest: (request, context: Context) => {
          const n = next++;
          const { category, applicant, project } = payloads[n % payloads.length];
          context.n = n;
          context.amount = project.requestedAmount;
          return { ...request, body: JSON.stringify({ programmeId: options.programmes[n % options.programmes.length], category, applicant, project }) };
        },
        onResponse: (status, body, context: Context) => {
          if (status === 201) context.id = (JSON.parse(body) as { id: string }).id;
        },
      },
      {
        method: 'POST',
        headers: headers('reviewer'),
        setupRequest: (request, context: Context) => ({
          ...request,
          path: `/applications/${context.id}/reviews`,
          body: JSON.stringify({ score: 80, recommendation: 'approve', recommendedAmount: context.amount }),
        }),
      },
      {
        method: 'POST',
        headers: headers('committee'),
        setupRequest: (request, context: Context) => ({
          ...request,
          path: `/applications/${context.id}/approval`,
          body: JSON.stringify({ decisionNumber: `${context.n}/QĐ-UBND`, decisionDate: '2024-05-02', approvedAmount: context.amount }),
        }),
      },
      {
        method: 'POST',
        headers: headers('finance'),
        setupRequest: (request, context: Context) => ({
          ...request,
          path: `/applications/${context.id}/disbursements`,
          body: JSON.stringify({ paymentRef: `KBNN-${options.runId}-${context.n}`, amount: shareOf(context.amount ?? 0, 0.7), paidAt: '2024-06-01' }),
        }),
      },
    ],
  });
}

/** A route that does nothing, with the same body size as a submission. */
export function ceilingLoad(baseUrl: string, path: string, token: string | undefined, connections: number, seconds: number): Promise<autocannon.Result> {
  const random = prng(13);
  const { applicant, project } = applicationPayload(random, 1, 'advanced_equipment');
  return autocannon({
    url: `${baseUrl}${path}`,
    method: 'POST',
    connections,
    duration: seconds,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ programmeId: 'X', category: 'advanced_equipment', applicant, project }),
  });
}

export function summary(result: autocannon.Result): string {
  return `${Math.round(result.requests.total / result.duration)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts}`;
}
