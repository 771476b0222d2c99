import { CONFIG_VARIABLES } from '@kcflow/config';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** The README's configuration table is what loadConfig reads: no more, no less. */
describe('README configuration table', () => {
  const readme = readFileSync(resolve(__dirname, '../../README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('| variable | default | meaning |'), readme.indexOf('## Roles'));
  const documented = [...table.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);

  it('lists every configuration variable, once, in the order of CONFIG_VARIABLES', () => {
    expect(documented).toEqual(CONFIG_VARIABLES.map((v) => v.name));
  });
});
