import { INDICATORS, Indicator, TargetRange } from '@kcflow/domain';
import { SqlQueryable, quoteSchema } from '@kcflow/sql';

/** One programme, or the programmes of a span of plan years (either bound may be left open), or all. */
export interface OutcomeFilter {
  programmeId?: string;
  from?: number;
  to?: number;
}

export interface IndicatorOutcome {
  indicator: Indicator;
  /** Sum of the targets of the programmes that set one for this indicator; null if none did. */
  target: TargetRange | null;
  /** Sum of expectedOutcomes of approved applications (approved, evaluated or closed). */
  expected: number;
  /** Sum of the outcomes their evaluations recorded. */
  achieved: number;
  /** 100 × achieved ÷ target.min, rounded half up to one decimal; null without a target or with min 0. */
  percentOfMin: number | null;
}

/** GET /reports/outcomes (API.md). */
export interface OutcomeReport {
  programmeId?: string;
  from?: number;
  to?: number;
  indicators: IndicatorOutcome[];
  /** Facilities (by tax code) with an approved application, counted once per plan year. */
  supportedFacilities: number;
}

type Row = { kind: 'target' | 'expected' | 'achieved' | 'facilities' | 'programmes'; indicator: string | null; a: string; b: string | null };

/** The outcome report, or undefined when `programmeId` names no programme. */
export async function outcomeReport(db: SqlQueryable, schema: string, filter: OutcomeFilter = {}): Promise<OutcomeReport | undefined> {
  const s = quoteSchema(schema);
  // One statement, so that targets, expectations, results and the count agree with each other
  // even while a batch commits.
  const rows = await db.query<Row>(
    `WITH p AS (
       SELECT programme_id, year, targets FROM ${s}.outcome_programmes
       WHERE ($1::text IS NULL OR programme_id = $1) AND ($2::int IS NULL OR year >= $2) AND ($3::int IS NULL OR year <= $3)
     ), a AS (
       SELECT a.expected, a.achieved, a.tax_code, p.year FROM ${s}.outcome_applications a JOIN p USING (programme_id) WHERE a.approved
     )
     SELECT 'target' AS kind, t.key AS indicator, sum((t.value->>'min')::numeric) AS a, sum((t.value->>'max')::numeric) AS b
       FROM p, jsonb_each(p.targets) t GROUP BY t.key
     UNION ALL
     SELECT 'expected', e.key, sum(e.value::numeric), NULL FROM a, jsonb_each_text(a.expected) e GROUP BY e.key
     UNION ALL
     SELECT 'achieved', e.key, sum(e.value::numeric), NULL FROM a, jsonb_each_text(a.achieved) e GROUP BY e.key
     UNION ALL
     SELECT 'facilities', NULL, count(*), NULL FROM (SELECT DISTINCT year, tax_code FROM a) f
     UNION ALL
     SELECT 'programmes', NULL, count(*), NULL FROM p`,
    [filter.programmeId ?? null, filter.from ?? null, filter.to ?? null],
  );
  const single = (kind: Row['kind']) => Number(rows.find((row) => row.kind === kind)?.a ?? 0);
  if (filter.programmeId !== undefined && single('programmes') === 0) return undefined;

  const sum = (kind: Row['kind'], indicator: string) => Number(rows.find((row) => row.kind === kind && row.indicator === indicator)?.a ?? 0);
  const indicators = INDICATORS.map((indicator): IndicatorOutcome => {
    const targetRow = rows.find((row) => row.kind === 'target' && row.indicator === indicator);
    const target = targetRow ? { min: Number(targetRow.a), max: Number(targetRow.b) } : null;
    const achieved = sum('achieved', indicator);
    return { indicator, target, expected: sum('expected', indicator), achieved, percentOfMin: percentOfMin(achieved, target) };
  });

  const scope =
    filter.programmeId !== undefined
      ? { programmeId: filter.programmeId }
      : { ...(filter.from !== undefined && { from: filter.from }), ...(filter.to !== undefined && { to: filter.to }) };
  return { ...scope, indicators, supportedFacilities: single('facilities') };
}

/** 100 × achieved ÷ target.min to one decimal, half up; null without a target or with min 0. */
export function percentOfMin(achieved: number, target: TargetRange | null): number | null {
  if (!target || target.min <= 0) return null;
  // Rounds the per-mille figure: 1/8 gives 12.5, 2/3 gives 66.7.
  return Math.round((achieved * 1000) / target.min) / 10;
}
