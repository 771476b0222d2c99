import { CATEGORIES } from '@kcflow/domain';
import { SqlQueryable, quoteSchema } from '@kcflow/sql';

export interface BudgetFigures {
  allocated: number;
  /** Approved amounts not yet released; includes what has been disbursed. */
  committed: number;
  disbursed: number;
  /** allocated − committed. */
  available: number;
  /** Applications the committee approved. */
  applicationsApproved: number;
  /** Applications that have received at least one payment. */
  applicationsPaid: number;
}

export interface DistrictFigures {
  district: string;
  committed: number;
  disbursed: number;
  /** Applications from the district that the committee approved. */
  applications: number;
}

/** GET /programmes/:id/budget (API.md), with the counts and `districts` added. */
export interface ProgrammeBudget {
  programmeId: string;
  categories: Array<{ category: string } & BudgetFigures>;
  totals: BudgetFigures;
  districts: DistrictFigures[];
}

type Sums = { committed: string; disbursed: string; approved: string; paid: string };

/** The programme's budget per category and per district, or undefined for an unknown programme. */
export async function programmeBudget(db: SqlQueryable, schema: string, programmeId: string): Promise<ProgrammeBudget | undefined> {
  const s = quoteSchema(schema);
  const [programme] = await db.query(`SELECT id FROM ${s}.programmes WHERE id = $1`, [programmeId]);
  if (!programme) return undefined;

  const sums = `COALESCE(sum(committed), 0) AS committed, COALESCE(sum(disbursed), 0) AS disbursed,
                count(*) FILTER (WHERE approved) AS approved, count(*) FILTER (WHERE disbursed > 0) AS paid`;
  // One statement for allocations and activity, so that categories and totals agree with
  // each other even while a batch commits.
  const rows = await db.query<Sums & { category: string; allocated: string }>(
    `SELECT category, COALESCE(a.allocated, 0) AS allocated, COALESCE(d.committed, 0) AS committed,
            COALESCE(d.disbursed, 0) AS disbursed, COALESCE(d.approved, 0) AS approved, COALESCE(d.paid, 0) AS paid
     FROM (SELECT category, allocated FROM ${s}.budget_allocations WHERE programme_id = $1) a
     FULL JOIN (SELECT category, ${sums} FROM ${s}.application_directory WHERE programme_id = $1 GROUP BY category) d
     USING (category)`,
    [programmeId],
  );
  const byDistrict = await db.query<Sums & { district: string }>(
    `SELECT district, ${sums} FROM ${s}.application_directory
     WHERE programme_id = $1 AND district IS NOT NULL
     GROUP BY district
     HAVING count(*) FILTER (WHERE approved) > 0 OR sum(committed) <> 0 OR sum(disbursed) <> 0
     ORDER BY district`,
    [programmeId],
  );

  // Categories with an allocation or any application, in the vocabulary's order.
  const rank = (category: string) => {
    const index = (CATEGORIES as readonly string[]).indexOf(category);
    return index < 0 ? CATEGORIES.length : index;
  };
  const categories = rows
    .sort((a, b) => rank(a.category) - rank(b.category) || a.category.localeCompare(b.category))
    .map((row) => ({ category: row.category, ...figures(Number(row.allocated), row) }));

  const totals = categories.reduce<BudgetFigures>(
    (sum, c) => ({
      allocated: sum.allocated + c.allocated,
      committed: sum.committed + c.committed,
      disbursed: sum.disbursed + c.disbursed,
      available: sum.available + c.available,
      applicationsApproved: sum.applicationsApproved + c.applicationsApproved,
      applicationsPaid: sum.applicationsPaid + c.applicationsPaid,
    }),
    figures(0, undefined),
  );

  const districts = byDistrict.map((row) => ({
    district: row.district,
    committed: Number(row.committed),
    disbursed: Number(row.disbursed),
    applications: Number(row.approved),
  }));

  return { programmeId, categories, totals, districts };
}

function figures(allocated: number, sums: Sums | undefined): BudgetFigures {
  const committed = Number(sums?.committed ?? 0);
  return {
    allocated,
    committed,
    disbursed: Number(sums?.disbursed ?? 0),
    available: allocated - committed,
    applicationsApproved: Number(sums?.approved ?? 0),
    applicationsPaid: Number(sums?.paid ?? 0),
  };
}

export interface BudgetSummaryFilter {
  year?: number;
  fundingSource?: string;
}

export interface ProgrammeBudgetLine extends BudgetFigures {
  programmeId: string;
  name: string;
  year: number;
  fundingSource: string;
}

export interface BudgetGroup extends BudgetFigures {
  year: number;
  fundingSource: string;
  programmes: number;
}

/** GET /reports/budget: every programme's totals, and their sums per plan year and funding source. */
export interface BudgetSummary {
  year: number | null;
  fundingSource: string | null;
  programmes: ProgrammeBudgetLine[];
  groups: BudgetGroup[];
  totals: BudgetFigures;
}

/** Totals per programme, per (year, funding source) and overall, for the programmes the filter selects. */
export async function budgetSummary(db: SqlQueryable, schema: string, filter: BudgetSummaryFilter = {}): Promise<BudgetSummary> {
  const s = quoteSchema(schema);
  const rows = await db.query<Sums & { id: string; name: string; year: number; funding_source: string; allocated: string }>(
    `SELECT p.id, p.name, p.year, p.funding_source, COALESCE(a.allocated, 0) AS allocated,
            COALESCE(d.committed, 0) AS committed, COALESCE(d.disbursed, 0) AS disbursed,
            COALESCE(d.approved, 0) AS approved, COALESCE(d.paid, 0) AS paid
     FROM ${s}.programmes p
     LEFT JOIN (SELECT programme_id, sum(allocated) AS allocated FROM ${s}.budget_allocations GROUP BY programme_id) a ON a.programme_id = p.id
     LEFT JOIN (SELECT programme_id, sum(committed) AS committed, sum(disbursed) AS disbursed,
                       count(*) FILTER (WHERE approved) AS approved, count(*) FILTER (WHERE disbursed > 0) AS paid
                FROM ${s}.application_directory GROUP BY programme_id) d ON d.programme_id = p.id
     WHERE ($1::int IS NULL OR p.year = $1) AND ($2::text IS NULL OR p.funding_source = $2)
     ORDER BY p.year, p.funding_source, p.id`,
    [filter.year ?? null, filter.fundingSource ?? null],
  );
  const programmes = rows.map((row) => ({
    programmeId: row.id,
    name: row.name,
    year: row.year,
    fundingSource: row.funding_source,
    ...figures(Number(row.allocated), row),
  }));
  const groups: BudgetGroup[] = [];
  for (const line of programmes) {
    let group = groups.find((g) => g.year === line.year && g.fundingSource === line.fundingSource);
    if (!group) groups.push((group = { year: line.year, fundingSource: line.fundingSource, programmes: 0, ...figures(0, undefined) }));
    group.programmes += 1;
    addFigures(group, line);
  }
  const totals = figures(0, undefined);
  for (const line of programmes) addFigures(totals, line);
  return { year: filter.year ?? null, fundingSource: filter.fundingSource ?? null, programmes, groups, totals };
}

function addFigures(sum: BudgetFigures, add: BudgetFigures): void {
  sum.allocated += add.allocated;
  sum.committed += add.committed;
  sum.disbursed += add.disbursed;
  sum.available += add.available;
  sum.applicationsApproved += add.applicationsApproved;
  sum.applicationsPaid += add.applicationsPaid;
}
