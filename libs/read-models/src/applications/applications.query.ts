import { refuse } from '@kcflow/domain';
import { SqlQueryable, quoteSchema } from '@kcflow/sql';
import { foldForSearch } from './search-text';

export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 200;

export interface ListApplicationsFilter {
  programmeId?: string;
  status?: string;
  category?: string;
  district?: string;
  /** The applicant's actor id: an applicant sees only its own applications. */
  ownerId?: string;
  /** Part of the applicant's name or tax code; case- and diacritic-insensitive. */
  search?: string;
  /** 1 to MAX_LIST_LIMIT; default DEFAULT_LIST_LIMIT. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface ApplicationListItem {
  id: string;
  programmeId: string;
  category: string;
  status: string;
  paymentStatus: string;
  applicantName: string;
  taxCode: string;
  applicantKind: string;
  district: string;
  commune: string;
  craftVillage: string | null;
  ownerId: string;
  title: string;
  totalCost: number;
  requestedAmount: number;
  approvedAmount: number | null;
  disbursedAmount: number;
  score: number | null;
  /** ISO 8601. */
  submittedAt: string;
  updatedAt: string;
  revision: number;
}

export interface ApplicationPage {
  items: ApplicationListItem[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

interface ApplicationRow {
  id: string;
  programme_id: string;
  category: string;
  status: string;
  payment_status: string;
  applicant_name: string;
  tax_code: string;
  applicant_kind: string;
  district: string;
  commune: string;
  craft_village: string | null;
  owner_id: string;
  title: string;
  total_cost: string;
  requested_amount: string;
  approved_amount: string | null;
  disbursed_amount: string;
  score: number | null;
  submitted_at: Date;
  updated_at: Date;
  revision: number;
}

/**
 * Applications oldest first, by keyset pagination on (submitted_at, id): a page after the
 * cursor's row, so pages neither skip nor repeat rows while new applications arrive.
 * An unreadable cursor is refused as invalid input (400).
 */
export async function listApplications(db: SqlQueryable, schema: string, filter: ListApplicationsFilter = {}): Promise<ApplicationPage> {
  const limit = Math.min(Math.max(Math.trunc(filter.limit ?? DEFAULT_LIST_LIMIT), 1), MAX_LIST_LIMIT);
  const where: string[] = [];
  const params: unknown[] = [];
  const condition = (sql: (param: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };

  if (filter.programmeId !== undefined) condition((p) => `programme_id = ${p}`, filter.programmeId);
  if (filter.status !== undefined) condition((p) => `status = ${p}`, filter.status);
  if (filter.category !== undefined) condition((p) => `category = ${p}`, filter.category);
  if (filter.district !== undefined) condition((p) => `district = ${p}`, filter.district);
  if (filter.ownerId !== undefined) condition((p) => `owner_id = ${p}`, filter.ownerId);
  if (filter.search) condition((p) => `search_text LIKE ${p} ESCAPE '\\'`, `%${escapeLike(foldForSearch(filter.search))}%`);
  if (filter.cursor !== undefined) {
    const after = decodeCursor(filter.cursor);
    params.push(after.submittedAt, after.id);
    where.push(`(submitted_at, id) > ($${params.length - 1}::timestamptz, $${params.length}::text)`);
  }
  params.push(limit + 1);

  // One row more than the page, to know whether there is a next page.
  const rows = await db.query<ApplicationRow>(
    `SELECT * FROM ${quoteSchema(schema)}.applications
     ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY submitted_at, id
     LIMIT $${params.length}`,
    params,
  );
  const items = rows.slice(0, limit).map(toItem);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}

function toItem(row: ApplicationRow): ApplicationListItem {
  return {
    id: row.id,
    programmeId: row.programme_id,
    category: row.category,
    status: row.status,
    paymentStatus: row.payment_status,
    applicantName: row.applicant_name,
    taxCode: row.tax_code,
    applicantKind: row.applicant_kind,
    district: row.district,
    commune: row.commune,
    craftVillage: row.craft_village,
    ownerId: row.owner_id,
    title: row.title,
    totalCost: Number(row.total_cost),
    requestedAmount: Number(row.requested_amount),
    approvedAmount: row.approved_amount === null ? null : Number(row.approved_amount),
    disbursedAmount: Number(row.disbursed_amount),
    score: row.score,
    submittedAt: row.submitted_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    revision: row.revision,
  };
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}

type Cursor = { submittedAt: string; id: string };

function encodeCursor(item: ApplicationListItem): string {
  return Buffer.from(JSON.stringify([item.submittedAt, item.id])).toString('base64url');
}

function decodeCursor(cursor: string): Cursor {
  try {
    const [submittedAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof submittedAt === 'string' && !Number.isNaN(Date.parse(submittedAt)) && typeof id === 'string') return { submittedAt, id };
  } catch {
    // Falls through to the refusal below.
  }
  throw refuse.input('cursor is not a cursor returned by this list');
}
