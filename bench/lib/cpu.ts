import { readFileSync, readdirSync } from 'node:fs';

/**
 * Where a load's CPU went, from /proc (Linux): the api, the PostgreSQL server, this process
 * (the load generator runs in it) and the machine as a whole. It shows whether a rate is
 * limited by our code or by the cores every part of the run shares.
 */
export interface CpuReading {
  apiMs: number;
  postgresMs: number;
  loadGeneratorMs: number;
  machineBusyMs: number;
  machineWallMs: number;
}

/** Kernel clock ticks per second (USER_HZ): 100 on Linux for every architecture node runs on. */
const TICK_MS = 10;

/** The fields of a /proc stat file after the command name, which is in parentheses and may hold spaces. */
function statFields(path: string): string[] {
  const stat = readFileSync(path, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** User plus system time of a process, and of its reaped children (PostgreSQL's exited backends), in ms. */
export function processCpuMs(pid: number): number {
  const fields = statFields(`/proc/${pid}/stat`);
  const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(fields[i]));
  return (utime + stime + cutime + cstime) * TICK_MS;
}

/** User plus system time of each thread of this process so far, in ms, by thread id (the main thread's is the pid). */
export function threadCpuMs(): Map<number, number> {
  const threads = new Map<number, number>();
  for (const entry of readdirSync('/proc/self/task')) {
    try {
      const fields = statFields(`/proc/self/task/${entry}/stat`);
      threads.set(Number(entry), (Number(fields[11]) + Number(fields[12])) * TICK_MS);
    } catch {
      // ended while being read
    }
  }
  return threads;
}

/** Every PostgreSQL process on the machine, in ms: other people's database work counts too. */
export function postgresCpuMs(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') total += processCpuMs(Number(entry));
    } catch {
      // ended while being read
    }
  }
  return total;
}

function machine(): { busyMs: number; wallMs: number } {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = ticks.map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busyMs: busy * TICK_MS, wallMs: (busy + idle + iowait) * TICK_MS };
}

function read(apiPid: number): CpuReading {
  const whole = machine();
  return {
    apiMs: processCpuMs(apiPid),
    postgresMs: postgresCpuMs(),
    loadGeneratorMs: processCpuMs(process.pid),
    machineBusyMs: whole.busyMs,
    machineWallMs: whole.wallMs,
  };
}

/** Reads now; the returned function reads again and gives the difference. */
export function measureCpu(apiPid: number): () => CpuReading {
  const start = read(apiPid);
  return () => {
    const end = read(apiPid);
    return {
      apiMs: end.apiMs - start.apiMs,
      postgresMs: end.postgresMs - start.postgresMs,
      loadGeneratorMs: end.loadGeneratorMs - start.loadGeneratorMs,
      machineBusyMs: end.machineBusyMs - start.machineBusyMs,
      machineWallMs: end.machineWallMs - start.machineWallMs,
    };
  };
}

/** "api 1.48, PostgreSQL 0.58, load generator 0.40, machine 2.50 ms of CPU per request; cores 97 % busy". */
export function describeCpu(cpu: CpuReading, requests: number): string {
  const per = (ms: number) => (ms / requests).toFixed(2);
  const busy = Math.round((100 * cpu.machineBusyMs) / Math.max(1, cpu.machineWallMs));
  return `CPU per request: api ${per(cpu.apiMs)} ms, PostgreSQL ${per(cpu.postgresMs)} ms, load generator ${per(cpu.loadGeneratorMs)} ms, whole machine ${per(cpu.machineBusyMs)} ms; cores ${busy} % busy`;
}
