/** The API on the same origin, with the signed-in bearer token; every error is a Problem. */

export type Role = 'applicant' | 'reviewer' | 'committee' | 'finance' | 'inspector' | 'admin';
export const ROLES: readonly Role[] = ['applicant', 'reviewer', 'committee', 'finance', 'inspector', 'admin'];

export interface Session {
  token: string;
  sub: string;
  roles: Role[];
  name?: string;
}

export interface FieldError {
  field: string;
  message: string;
}

/** An RFC 9457 problem as the API answers it (API.md "Errors"), or a network failure (status 0). */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly type = 'about:blank',
    readonly errors: readonly FieldError[] = [],
  ) {
    super(detail || title);
  }

  /** Someone else changed the application first: the page is stale and must be reloaded. */
  get isConflict(): boolean {
    return this.status === 412 || (this.status === 409 && !this.type.endsWith('/business-rule'));
  }
}

const SESSION_KEY = 'kcflow.session';
/** Dispatched on window when the API refuses the session's token (401). */
export const SIGNED_OUT = 'kcflow:signed-out';

/** The claims of a JWT, unverified: only to show who is signed in; the API verifies. */
export function sessionFromToken(token: string): Session | undefined {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(payload), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes)) as { sub?: unknown; roles?: unknown; name?: unknown };
    if (typeof claims.sub !== 'string' || !Array.isArray(claims.roles)) return undefined;
    const roles = claims.roles.filter((r): r is Role => (ROLES as readonly unknown[]).includes(r));
    return { token, sub: claims.sub, roles, name: typeof claims.name === 'string' ? claims.name : undefined };
  } catch {
    return undefined;
  }
}

export function loadSession(): Session | undefined {
  const token = localStorage.getItem(SESSION_KEY);
  return token ? sessionFromToken(token) : undefined;
}

export function saveSession(session: Session | undefined): void {
  if (session) localStorage.setItem(SESSION_KEY, session.token);
  else localStorage.removeItem(SESSION_KEY);
}

export interface Answer<T> {
  body: T;
  /** The revision of the ETag header, for If-Match. */
  etag?: string;
}

interface Options {
  method?: 'GET' | 'POST';
  body?: unknown;
  ifMatch?: string;
  token?: string;
}

export async function call<T>(path: string, { method = 'GET', body, ifMatch, token }: Options = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (ifMatch) headers['If-Match'] = ifMatch;
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new Problem(0, 'Network error', (error as Error).message);
  }
  const text = await response.text();
  const json = text ? safeJson(text) : undefined;
  // An expired or revoked token: the app signs the user out (main.tsx).
  if (response.status === 401 && token) dispatchEvent(new Event(SIGNED_OUT));
  if (!response.ok) {
    const p = (json ?? {}) as Partial<{ type: string; title: string; detail: string; message: string; errors: FieldError[] }>;
    throw new Problem(response.status, p.title ?? response.statusText, p.detail ?? p.message ?? '', p.type, p.errors ?? []);
  }
  return { body: json as T, etag: response.headers.get('ETag') ?? undefined };
}

/** A file from an authenticated route, saved under the name the server gives it. */
export async function download(path: string, token: string, fallbackName: string): Promise<void> {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) {
    const p = safeJson(await response.text()) as { title?: string; detail?: string } | undefined;
    throw new Problem(response.status, p?.title ?? response.statusText, p?.detail ?? '');
  }
  const name = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(response.headers.get('Content-Disposition') ?? '')?.[1];
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement('a'), { href: url, download: name ? decodeURIComponent(name) : fallbackName });
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** GET /applications/:id (API.md); only what the console reads. */
export interface ApplicationView {
  id: string;
  programmeId: string;
  category: string;
  status: string;
  paymentStatus: string;
  ownerId: string;
  applicant: { name: string; taxCode: string; kind: string; district: string; commune: string; craftVillage?: string };
  project: { title: string; description: string; totalCost: number; requestedAmount: number; expectedOutcomes: Record<string, number> };
  review: { score: number; recommendation: string; recommendedAmount?: number; notes?: string; reviewerId: string } | null;
  revisionRequest: { reason: string } | null;
  decision: { outcome: 'approved' | 'rejected'; decisionNumber?: string; decisionDate?: string; approvedAmount?: number; reason?: string } | null;
  approvedAmount: number | null;
  disbursedAmount: number;
  disbursements: { paymentRef: string; amount: number; paidAt: string }[];
  evaluation: { outcomes: Record<string, number>; rating: string; notes?: string } | null;
  withdrawal: { reason: string } | null;
  closure: { reason?: string } | null;
  revision: number;
}

export interface ApplicationListItem {
  id: string;
  programmeId: string;
  category: string;
  status: string;
  paymentStatus: string;
  applicantName: string;
  taxCode: string;
  district: string;
  title: string;
  requestedAmount: number;
  approvedAmount: number | null;
  disbursedAmount: number;
  submittedAt: string;
}
