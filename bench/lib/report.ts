import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { OUT_DIR } from './env';
import { fmt } from './stats';

/** A figure measured against a baseline of the same run: ratio = value / baseline. */
export interface Baseline {
  name: string;
  value: number;
}

export interface Bar {
  /** As the issue states it, e.g. "≥ 5,000 appends/s". */
  text: string;
  met: boolean;
}

export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** Decimals to print. */
  digits?: number;
  /** Rows that are themselves the baselines print without ratios. */
  isBaseline?: boolean;
  baselines?: Baseline[];
  bars?: Bar[];
  note?: string;
}

export interface BenchResult {
  bench: string;
  title: string;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  loadAverage: { start: number[]; end: number[] };
  settings: Record<string, unknown>;
  figures: Figure[];
  notes: string[];
}

export function ratio(value: number, baseline: number): number {
  return baseline === 0 ? Number.NaN : value / baseline;
}

/** Collects a benchmark's figures, prints them as they come and saves them for run-all. */
export class Report {
  private readonly figures: Figure[] = [];
  private readonly notes: string[] = [];
  private readonly settings: Record<string, unknown> = {};
  private readonly started = new Date();
  private readonly loadAtStart = loadavg();

  constructor(
    private readonly bench: string,
    private readonly title: string,
  ) {
    log(`\n=== ${title} ===  (load average ${this.loadAtStart.map((l) => l.toFixed(2)).join(' ')})`);
  }

  setting(name: string, value: unknown): void {
    this.settings[name] = value;
    log(`  ${name}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  }

  note(text: string): void {
    this.notes.push(text);
    log(`  note: ${text}`);
  }

  add(figure: Figure): Figure {
    this.figures.push(figure);
    log(`  ${formatFigure(figure)}`);
    return figure;
  }

  /** Prints the table and writes bench/out/<bench>.json. */
  finish(): BenchResult {
    const finished = new Date();
    const result: BenchResult = {
      bench: this.bench,
      title: this.title,
      startedAt: this.started.toISOString(),
      finishedAt: finished.toISOString(),
      seconds: (finished.getTime() - this.started.getTime()) / 1000,
      loadAverage: { start: this.loadAtStart, end: loadavg() },
      settings: this.settings,
      figures: this.figures,
      notes: this.notes,
    };
    mkdirSync(OUT_DIR, { recursive: true });
    writeFileSync(join(OUT_DIR, `${this.bench}.json`), `${JSON.stringify(result, null, 2)}\n`);
    log(`\n${markdownTable(result)}`);
    log(`(${result.seconds.toFixed(0)} s; load average at the end ${result.loadAverage.end.map((l) => l.toFixed(2)).join(' ')}; saved bench/out/${this.bench}.json)`);
    return result;
  }
}

export function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

function ratios(figure: Figure): string {
  if (figure.isBaseline || !figure.baselines?.length) return figure.isBaseline ? 'baseline' : '';
  return figure.baselines.map((b) => `${ratio(figure.value, b.value).toFixed(2)}× ${b.name}`).join('; ');
}

function bars(figure: Figure): string {
  return (figure.bars ?? []).map((b) => `${b.met ? 'MET' : 'MISSED'} ${b.text}`).join('; ');
}

export function formatFigure(figure: Figure): string {
  const parts = [`${figure.name}: ${fmt(figure.value, figure.digits ?? 0)} ${figure.unit}`];
  const r = ratios(figure);
  if (r) parts.push(`[${r}]`);
  const b = bars(figure);
  if (b) parts.push(`{${b}}`);
  if (figure.note) parts.push(`(${figure.note})`);
  return parts.join('  ');
}

export function markdownTable(result: BenchResult): string {
  const rows = result.figures.map(
    (f) => `| ${f.name} | ${fmt(f.value, f.digits ?? 0)} ${f.unit} | ${ratios(f) || '—'} | ${bars(f) || '—'} |`,
  );
  return [`| ${result.title} | figure | ratio to baseline (same run) | bar |`, '| --- | --- | --- | --- |', ...rows].join('\n');
}
