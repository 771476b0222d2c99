import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(__dirname, '../..');

function violations(...targets: string[]): string[] {
  let output: string;
  try {
    output = execFileSync('npx', ['depcruise', ...targets, '--config', '.dependency-cruiser.js', '--output-type', 'json'], { cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  } catch (error) {
    // depcruise exits non-zero when it finds violations; the report is still on stdout.
    const failure = error as { stdout: string; stderr: string; status: number };
    if (!failure.stdout) throw new Error(`depcruise failed (exit ${failure.status}): ${failure.stderr}`);
    output = failure.stdout;
  }
  const report = JSON.parse(output) as { summary: { violations: { rule: { name: string } }[] } };
  return report.summary.violations.map((v) => v.rule.name).sort();
}

describe('layer rules (.dependency-cruiser.js)', () => {
  it('hold for the code', () => {
    expect(violations('apps', 'libs')).toEqual([]);
  }, 60_000);

  it('really fail when broken', () => {
    expect(violations('test/fixtures/layer-violations')).toEqual(['domain-is-pure', 'libraries-do-not-import-apps', 'workflow-knows-only-ports']);
  }, 60_000);
});
