import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OUT_DIR, REPO_ROOT, env } from './env';

export interface Child {
  process: ChildProcess;
  name: string;
  logFile: string;
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number | null>;
}

/**
 * Starts `node <script>` from the repository root with its output in bench/out/logs/<name>.log
 * (BENCH_CPU_PROF=1: under --cpu-prof, profiles in bench/out/profiles).
 */
export function startNode(name: string, script: string, args: string[], extraEnv: Record<string, string | undefined>, nodeFlags: string[] = []): Child {
  const logs = join(OUT_DIR, 'logs');
  mkdirSync(logs, { recursive: true });
  const logFile = join(logs, `${name}.log`);
  const out = createWriteStream(logFile);
  const flags = [...nodeFlags];
  if (env.cpuProf) {
    const dir = join(OUT_DIR, 'profiles');
    mkdirSync(dir, { recursive: true });
    flags.push('--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}.cpuprofile`);
  }
  const child = spawn(process.execPath, [...flags, script, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Both streams go to one file, so neither may end it: 'close' comes once both have ended,
  // and the code is handed over only when the file holds all they wrote ('exit' can come
  // before the last output, which made a finished contender look as if it printed nothing).
  child.stdout!.pipe(out, { end: false });
  child.stderr!.pipe(out, { end: false });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => out.end(() => resolve(code))));
  return { process: child, name, logFile, exited };
}

/** Ends a child this benchmark started: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopChild(child: Child, graceMs = 30_000): Promise<number | null> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return child.process.exitCode;
  child.process.kill('SIGTERM');
  const code = await Promise.race([child.exited, sleep(graceMs).then(() => 'timeout' as const)]);
  if (code !== 'timeout') return code;
  child.process.kill('SIGKILL');
  return child.exited;
}

export function tail(child: Child, lines = 30): string {
  try {
    return readFileSync(child.logFile, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Waits until `url` answers 2xx, failing early if the child dies. */
export async function waitForHttp(url: string, child: Child, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.process.exitCode !== null) throw new Error(`${child.name} exited with ${child.process.exitCode} before answering:\n${tail(child)}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${child.name} did not answer ${url} within ${timeoutMs} ms:\n${tail(child)}`);
    await sleep(200);
  }
}

export interface Memory {
  /** Resident set size now, MB. */
  rssMb: number;
  /** Peak resident set size of the process's life (VmHWM), MB. */
  peakMb: number;
}

/** From /proc/<pid>/status (Linux). */
export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

/** Samples a child's memory until stopped; keeps the last reading for after it exits. */
export function watchMemory(child: Child, everyMs = 250): { last: () => Memory | undefined; stop: () => void } {
  let last: Memory | undefined;
  const read = () => {
    try {
      if (child.process.pid) last = memoryOf(child.process.pid);
    } catch {
      // exited between readings
    }
  };
  read();
  const timer = setInterval(read, everyMs);
  return { last: () => last, stop: () => clearInterval(timer) };
}

/** Runs a child to its end; rejects on a non-zero exit. */
export async function runNode(name: string, script: string, args: string[], extraEnv: Record<string, string | undefined>, nodeFlags: string[] = []): Promise<Child> {
  const child = startNode(name, script, args, extraEnv, nodeFlags);
  const code = await child.exited;
  if (code !== 0) throw new Error(`${name} exited with ${code}:\n${tail(child)}`);
  return child;
}
