import {
  ApplicationEvent,
  ApplicationState,
  CATEGORIES,
  INDICATORS,
  OpenProgramme,
  ProgrammeEvent,
  ProgrammeState,
  evolveApplication,
  evolveProgramme,
  initialApplicationState,
  initialProgrammeState,
  outstanding,
} from '@kcflow/domain';
import { EventStore, GlobalPosition, comparePositions, formatPosition, parsePosition } from '@kcflow/event-store';
import { SqlDatabase, quoteSchema } from '@kcflow/sql';
import { BudgetSummary, ProgrammeBudget, budgetSummary, programmeBudget } from '../budget/budget.query';
import { OutcomeReport, outcomeReport } from '../outcomes/outcomes.query';

/**
 * `npm run verify:read-models`: the budget and outcome figures recomputed from the raw events
 * with the domain's own evolve functions — not with the projections' code — and compared with
 * what the read models answer. Each read model is compared at its own checkpoint: the events
 * up to it are folded, so a projection that lags is not reported as wrong, only one whose rows
 * disagree with the events it has applied.
 */

export interface ReadModelDifference {
  report: 'budget' | 'outcomes';
  /** What the figure is about, e.g. `HN-2024-city › advanced_equipment`. */
  subject: string;
  field: string;
  /** Recomputed from the events. */
  events: unknown;
  readModel: unknown;
}

export interface VerificationResult {
  differences: ReadModelDifference[];
  programmes: number;
  /** Events folded, up to the later of the two checkpoints. */
  events: number;
  budgetPosition: string | null;
  outcomesPosition: string | null;
}

export interface VerifyOptions {
  store: EventStore;
  db: SqlDatabase;
  schema: string;
}

type Folded = { programmes: Map<string, OpenProgramme>; applications: Map<string, Extract<ApplicationState, { id: string }>> };

export async function verifyReadModels({ store, db, schema }: VerifyOptions): Promise<VerificationResult> {
  // 1. The read models as they stand at one moment, with the checkpoints they stand at.
  const seen = await readModelSnapshot(db, schema);
  // 2. The events folded up to each checkpoint (one pass; the states are immutable values).
  const { atBudget, atOutcomes, events } = await foldUpTo(store, seen.budgetPosition, seen.outcomesPosition);

  const differences: ReadModelDifference[] = [];
  const ids = new Set([...atBudget.programmes.keys(), ...seen.budgets.keys()]);
  for (const id of [...ids].sort()) {
    const programme = atBudget.programmes.get(id);
    compareBudget(differences, id, programme && expectedBudget(programme, atBudget), seen.budgets.get(id));
  }
  compareSummary(differences, expectedSummary(atBudget), seen.summary);

  const outcomeIds = new Set([...atOutcomes.programmes.keys(), ...seen.outcomes.keys()]);
  for (const id of [...outcomeIds].sort()) {
    const programme = atOutcomes.programmes.get(id);
    compareOutcomes(differences, id, programme && expectedOutcomes(atOutcomes, [programme]), seen.outcomes.get(id));
  }
  const years = new Set([...[...atOutcomes.programmes.values()].map((p) => p.year), ...seen.byYear.keys()]);
  for (const year of [...years].sort()) {
    const programmes = [...atOutcomes.programmes.values()].filter((p) => p.year === year);
    compareOutcomes(differences, `year ${year}`, expectedOutcomes(atOutcomes, programmes), seen.byYear.get(year) ?? emptyReport());
  }
  compareOutcomes(differences, 'all years', expectedOutcomes(atOutcomes, [...atOutcomes.programmes.values()]), seen.allYears);

  return {
    differences,
    programmes: ids.size,
    events,
    budgetPosition: seen.budgetPosition ? formatPosition(seen.budgetPosition) : null,
    outcomesPosition: seen.outcomesPosition ? formatPosition(seen.outcomesPosition) : null,
  };
}

/** The differences as a plain-text table, one line each. */
export function formatDifferences(differences: readonly ReadModelDifference[]): string {
  const rows = [['report', 'subject', 'field', 'from events', 'read model'], ...differences.map((d) => [d.report, d.subject, d.field, show(d.events), show(d.readModel)])];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const line = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd();
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

const show = (value: unknown) => (value === undefined ? '(absent)' : typeof value === 'string' ? value : JSON.stringify(value));

// ── The read models' side ─────────────────────────────────────────────────────────────

async function readModelSnapshot(db: SqlDatabase, schema: string) {
  const s = quoteSchema(schema);
  return db.transaction(async (tx) => {
    // One snapshot for every statement (PGlite runs one transaction at a time anyway).
    if (db.dialect === 'postgres') await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    const checkpoints = await tx.query<{ name: string; position: string | null }>(`SELECT name, position FROM ${s}.projection_checkpoints`);
    const at = (name: string) => {
      const position = checkpoints.find((row) => row.name === name)?.position;
      return position ? parsePosition(position) : undefined;
    };
    const budgets = new Map<string, ProgrammeBudget | undefined>();
    for (const { id } of await tx.query<{ id: string }>(`SELECT id FROM ${s}.programmes`)) budgets.set(id, await programmeBudget(tx, schema, id));
    const outcomes = new Map<string, OutcomeReport | undefined>();
    const byYear = new Map<number, OutcomeReport | undefined>();
    for (const { programme_id: id, year } of await tx.query<{ programme_id: string; year: number }>(`SELECT programme_id, year FROM ${s}.outcome_programmes`)) {
      outcomes.set(id, await outcomeReport(tx, schema, { programmeId: id }));
      if (!byYear.has(year)) byYear.set(year, await outcomeReport(tx, schema, { from: year, to: year }));
    }
    return {
      budgetPosition: at('budget'),
      outcomesPosition: at('outcomes'),
      budgets,
      summary: await budgetSummary(tx, schema),
      outcomes,
      byYear,
      allYears: await outcomeReport(tx, schema),
    };
  });
}

// ── The events' side ──────────────────────────────────────────────────────────────────

// Records over the event unions, so that a new event type fails the type check here.
const PROGRAMME_EVENTS: Record<ProgrammeEvent['type'], true> = {
  ProgrammeOpened: true, BudgetAllocated: true, TargetsSet: true, BudgetCommitted: true, BudgetReleased: true,
};
const APPLICATION_EVENTS: Record<ApplicationEvent['type'], true> = {
  ApplicationSubmitted: true, RevisionRequested: true, ApplicationAmended: true, ApplicationReviewed: true, ApplicationApproved: true,
  ApplicationRejected: true, ApplicationWithdrawn: true, FundsDisbursed: true, OutcomeEvaluated: true, ApplicationClosed: true,
  ReviewerRecused: true,
};

async function foldUpTo(store: EventStore, budgetAt: GlobalPosition | undefined, outcomesAt: GlobalPosition | undefined) {
  const programmes = new Map<string, ProgrammeState>();
  const applications = new Map<string, ApplicationState>();
  const freeze = (): Folded => ({
    programmes: new Map([...programmes].filter((entry): entry is [string, OpenProgramme] => entry[1].status === 'open')),
    applications: new Map([...applications].filter((entry): entry is [string, Extract<ApplicationState, { id: string }>] => entry[1].status !== 'none')),
  });
  const last = [budgetAt, outcomesAt].reduce<GlobalPosition | undefined>((a, b) => (!a ? b : !b ? a : comparePositions(a, b) >= 0 ? a : b), undefined);
  // A read model without a checkpoint has applied nothing: it is compared with no events.
  let atBudget = budgetAt ? undefined : freeze();
  let atOutcomes = outcomesAt ? undefined : freeze();
  let events = 0;
  let after: GlobalPosition | undefined;

  reading: while (last) {
    const page = await store.readAll({ after, limit: 1_000 });
    if (page.length === 0) break;
    for (const event of page) {
      // Frozen on passing the checkpoint: the state holds every event up to it.
      if (!atBudget && comparePositions(event.position, budgetAt!) > 0) atBudget = freeze();
      if (!atOutcomes && comparePositions(event.position, outcomesAt!) > 0) atOutcomes = freeze();
      if (comparePositions(event.position, last) > 0) break reading;
      const [kind, ...rest] = event.streamId.split('-');
      const id = rest.join('-');
      if (kind === 'programme' && event.type in PROGRAMME_EVENTS) {
        programmes.set(id, evolveProgramme(programmes.get(id) ?? initialProgrammeState(), event as unknown as ProgrammeEvent));
      } else if (kind === 'application' && event.type in APPLICATION_EVENTS) {
        applications.set(id, evolveApplication(applications.get(id) ?? initialApplicationState(), event as unknown as ApplicationEvent));
      }
      events += 1;
    }
    after = page[page.length - 1].position;
  }
  atBudget ??= freeze();
  atOutcomes ??= freeze();
  return { atBudget, atOutcomes, events };
}

type Figures = ProgrammeBudget['totals'];
const zero = (): Figures => ({ allocated: 0, committed: 0, disbursed: 0, available: 0, applicationsApproved: 0, applicationsPaid: 0 });

function expectedBudget(programme: OpenProgramme, folded: Folded): ProgrammeBudget {
  const apps = [...folded.applications.values()].filter((a) => a.programmeId === programme.id);
  const categories = new Map<string, Figures>();
  const category = (name: string) => categories.get(name) ?? categories.set(name, zero()).get(name)!;
  for (const [name, amount] of Object.entries(programme.allocations)) category(name).allocated = amount ?? 0;
  for (const commitment of Object.values(programme.commitments)) category(commitment.category).committed += outstanding(commitment);
  const districts = new Map<string, { district: string; committed: number; disbursed: number; applications: number }>();
  for (const app of apps) {
    const figures = category(app.category);
    const approved = app.approvedAmount !== null;
    figures.disbursed += app.disbursedAmount;
    figures.applicationsApproved += approved ? 1 : 0;
    figures.applicationsPaid += app.disbursedAmount > 0 ? 1 : 0;
    const committed = programme.commitments[app.id] ? outstanding(programme.commitments[app.id]) : 0;
    const district = districts.get(app.applicant.district) ?? { district: app.applicant.district, committed: 0, disbursed: 0, applications: 0 };
    districts.set(app.applicant.district, {
      district: district.district,
      committed: district.committed + committed,
      disbursed: district.disbursed + app.disbursedAmount,
      applications: district.applications + (approved ? 1 : 0),
    });
  }
  const totals = zero();
  const list = [...categories].map(([name, figures]) => {
    figures.available = figures.allocated - figures.committed;
    for (const key of Object.keys(totals) as (keyof Figures)[]) totals[key] += figures[key];
    return { category: name, ...figures };
  });
  list.sort((a, b) => CATEGORIES.indexOf(a.category as never) - CATEGORIES.indexOf(b.category as never));
  return {
    programmeId: programme.id,
    categories: list,
    totals,
    districts: [...districts.values()].filter((d) => d.applications > 0 || d.committed !== 0 || d.disbursed !== 0),
  };
}

function expectedSummary(folded: Folded): Pick<BudgetSummary, 'groups' | 'totals'> {
  const groups: BudgetSummary['groups'] = [];
  const totals = zero();
  for (const programme of folded.programmes.values()) {
    const figures = expectedBudget(programme, folded).totals;
    let group = groups.find((g) => g.year === programme.year && g.fundingSource === programme.fundingSource);
    if (!group) groups.push((group = { year: programme.year, fundingSource: programme.fundingSource, programmes: 0, ...zero() }));
    group.programmes += 1;
    for (const key of Object.keys(totals) as (keyof Figures)[]) {
      group[key] += figures[key];
      totals[key] += figures[key];
    }
  }
  return { groups, totals };
}

function expectedOutcomes(folded: Folded, programmes: OpenProgramme[]): OutcomeReport {
  const ids = new Set(programmes.map((p) => p.id));
  const yearOf = new Map(programmes.map((p) => [p.id, p.year]));
  const approved = [...folded.applications.values()].filter((a) => ids.has(a.programmeId) && a.approvedAmount !== null);
  const indicators = INDICATORS.map((indicator) => {
    const ranges = programmes.map((p) => p.targets[indicator]).filter((range) => range !== undefined);
    const target = ranges.length === 0 ? null : { min: ranges.reduce((n, r) => n + r.min, 0), max: ranges.reduce((n, r) => n + r.max, 0) };
    const expected = approved.reduce((n, a) => n + (a.project.expectedOutcomes?.[indicator] ?? 0), 0);
    const achieved = approved.reduce((n, a) => n + (a.evaluation?.outcomes?.[indicator] ?? 0), 0);
    const percentOfMin = target && target.min > 0 ? Math.round((achieved * 1000) / target.min) / 10 : null;
    return { indicator, target, expected, achieved, percentOfMin };
  });
  const facilities = new Set(approved.map((a) => `${yearOf.get(a.programmeId)}\u0000${a.applicant.taxCode}`));
  return { indicators, supportedFacilities: facilities.size };
}

const emptyReport = (): OutcomeReport => ({
  indicators: INDICATORS.map((indicator) => ({ indicator, target: null, expected: 0, achieved: 0, percentOfMin: null })),
  supportedFacilities: 0,
});

// ── Comparison ────────────────────────────────────────────────────────────────────────

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function compareFields(out: ReadModelDifference[], report: ReadModelDifference['report'], subject: string, events: object | undefined, readModel: object | undefined): void {
  if (!events || !readModel) {
    if (events || readModel) out.push({ report, subject, field: '(row)', events: events ? 'present' : undefined, readModel: readModel ? 'present' : undefined });
    return;
  }
  const a = events as Record<string, unknown>;
  const b = readModel as Record<string, unknown>;
  for (const field of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (!same(a[field], b[field])) out.push({ report, subject, field, events: a[field], readModel: b[field] });
  }
}

function compareKeyed<T extends object>(out: ReadModelDifference[], report: ReadModelDifference['report'], subject: (key: string) => string, key: (row: T) => string, events: T[], readModel: T[]): void {
  const keys = new Set([...events.map(key), ...readModel.map(key)]);
  for (const k of keys) compareFields(out, report, subject(k), events.find((row) => key(row) === k), readModel.find((row) => key(row) === k));
}

function compareBudget(out: ReadModelDifference[], id: string, events: ProgrammeBudget | undefined, readModel: ProgrammeBudget | undefined): void {
  if (!events || !readModel) return compareFields(out, 'budget', id, events, readModel);
  compareKeyed(out, 'budget', (k) => `${id} › ${k}`, (row) => row.category, events.categories, readModel.categories);
  if (!same(events.categories.map((c) => c.category), readModel.categories.map((c) => c.category))) {
    out.push({ report: 'budget', subject: id, field: 'category order', events: events.categories.map((c) => c.category), readModel: readModel.categories.map((c) => c.category) });
  }
  compareFields(out, 'budget', `${id} › totals`, events.totals, readModel.totals);
  compareKeyed(out, 'budget', (k) => `${id} › district ${k}`, (row) => row.district, events.districts, readModel.districts);
}

function compareSummary(out: ReadModelDifference[], events: Pick<BudgetSummary, 'groups' | 'totals'>, readModel: BudgetSummary): void {
  compareKeyed(out, 'budget', (k) => `all programmes › ${k}`, (row) => `${row.year} ${row.fundingSource}`, events.groups, readModel.groups);
  compareFields(out, 'budget', 'all programmes › totals', events.totals, readModel.totals);
}

function compareOutcomes(out: ReadModelDifference[], subject: string, events: OutcomeReport | undefined, readModel: OutcomeReport | undefined): void {
  if (!events || !readModel) return compareFields(out, 'outcomes', subject, events, readModel);
  compareKeyed(out, 'outcomes', (k) => `${subject} › ${k}`, (row) => row.indicator, events.indicators, readModel.indicators);
  if (events.supportedFacilities !== readModel.supportedFacilities) {
    out.push({ report: 'outcomes', subject, field: 'supportedFacilities', events: events.supportedFacilities, readModel: readModel.supportedFacilities });
  }
}
