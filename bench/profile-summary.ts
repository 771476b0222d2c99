/**
 * `node dist/bench/profile-summary.js <file.cpuprofile> [top] [function]`: the functions a V8 CPU
 * profile (node --cpu-prof, or BENCH_CPU_PROF=1) spent most time in, by self and by total time,
 * grouped by package or folder; with a function name, also the call paths that led to it.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { REPO_ROOT } from './lib/env';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function where(url: string): string {
  if (!url) return '';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (path.startsWith('node:')) return path;
  return relative(REPO_ROOT, path);
}

function group(url: string): string {
  const w = where(url);
  if (!w) return '(native / V8)';
  if (w.startsWith('node:')) return 'node core';
  if (w.startsWith('dist/')) return w.split('/').slice(0, 3).join('/');
  return w;
}

export function summarizeProfile(file: string, top = 25, callersOf?: string): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byGroup = new Map<string, number>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const keyOf = (id: number) => {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    return `${functionName || '(anonymous)'} ${where(url)}${url ? `:${lineNumber + 1}` : ''}`.trim();
  };
  // Total (inclusive) time: each sample counts once for every distinct function on its stack.
  const inclusive = new Map<string, number>();
  for (const [id, micros] of self) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) seen.add(keyOf(at));
    for (const key of seen) inclusive.set(key, (inclusive.get(key) ?? 0) + micros);
  }
  for (const [id, micros] of self) {
    const { functionName, url } = byId.get(id)!.callFrame;
    const key = keyOf(id);
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
    const g = functionName.startsWith('(') && !url ? functionName : group(url);
    byGroup.set(g, (byGroup.get(g) ?? 0) + micros);
  }
  const pct = (micros: number) => `${((100 * micros) / total).toFixed(1).padStart(5)}%`;
  const lines = [`${file}: ${(total / 1e6).toFixed(1)} s sampled`, '', 'by self time:'];
  for (const [key, micros] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(micros)}  ${key}`);
  lines.push('', 'by total time (the function and what it calls), our code and libraries only:');
  const ours = [...inclusive].filter(([key]) => /dist\/|node_modules|[a-z-]+:\d+$/.test(key) && !key.startsWith('(root)'));
  for (const [key, micros] of ours.sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(micros)}  ${key}`);
  lines.push('', 'grouped:');
  for (const [key, micros] of [...byGroup].sort((a, b) => b[1] - a[1]).slice(0, 15)) lines.push(`  ${pct(micros)}  ${key}`);
  if (callersOf) {
    // The nearest frames outside node core above each sample of the function, e.g. which queries end in writev.
    const paths = new Map<string, number>();
    for (const [id, micros] of self) {
      if (byId.get(id)!.callFrame.functionName !== callersOf) continue;
      const frames: string[] = [];
      for (let at = parent.get(id); at !== undefined && frames.length < 5; at = parent.get(at)) {
        if (!byId.get(at)!.callFrame.url.startsWith('node:')) frames.push(keyOf(at));
      }
      const path = frames.join(' ← ');
      paths.set(path, (paths.get(path) ?? 0) + micros);
    }
    lines.push('', `call paths to ${callersOf}:`);
    for (const [path, micros] of [...paths].sort((a, b) => b[1] - a[1]).slice(0, 8)) lines.push(`  ${(micros / 1e6).toFixed(2)} s  ← ${path}`);
  }
  return lines.join('\n');
}

if (require.main === module) {
  const [file, top, callersOf] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node dist/bench/profile-summary.js <file.cpuprofile> [top] [function]');
    process.exit(2);
  }
  console.log(summarizeProfile(file, top ? Number(top) : 25, callersOf));
}
