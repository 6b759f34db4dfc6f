// CPU each process has used (user + system, from /proc), grouped by role: steadier than wall-clock
// figures on a shared machine, where what the other processes get moves every one. Linux only;
// `cpuByRole` returns null elsewhere.
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

const ROLES: [string, (cmd: string, comm: string) => boolean][] = [
  ['Temporal dev server', (cmd) => cmd.includes('temporal') && cmd.includes('start-dev')],
  ['MinIO', (cmd) => cmd.includes('minio') && cmd.includes(' server ')],
  ['Postgres', (_cmd, comm) => comm === 'postgres'],
  ['Redis', (_cmd, comm) => comm.startsWith('redis-server')],
  ['Mediaflow API', (cmd) => cmd.includes('api/main.ts')],
  ['Mediaflow worker', (cmd) => cmd.includes('worker/main.ts')],
  ['BullMQ worker', (cmd) => cmd.includes('bullmq-worker')],
  ['bare baseline server', (cmd) => cmd.includes('api-baseline.ts')],
];

/** One reading: each process's CPU milliseconds so far and its role, plus the machine's idle time. */
export interface CpuReading {
  byPid: Map<number, { role: string; ms: number }>;
  idleMs: number;
}

/** Reads every process's CPU so far; `self` names this process's role. Null where /proc is missing. */
export function cpuByRole(self: string): CpuReading | null {
  const byPid = new Map<number, { role: string; ms: number }>();
  try {
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const ms = (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
        const role = Number(pid) === process.pid ? self : (ROLES.find(([, is]) => is(cmd, comm))?.[0] ?? 'everything else');
        byPid.set(Number(pid), { role, ms });
      } catch {
        // the process ended meanwhile
      }
    }
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { byPid, idleMs: ((cpu[3] ?? 0) + (cpu[4] ?? 0)) * TICK_MS };
  } catch {
    return null;
  }
}

/**
 * What each role used between two readings, largest first, then `idle`. Counted per process: one
 * that started meanwhile counts from zero; one that ended meanwhile is not counted (a short-lived
 * process must report its own CPU).
 */
export function cpuUsed(before: CpuReading, after: CpuReading): [string, number][] {
  const byRole = new Map<string, number>();
  for (const [pid, { role, ms }] of after.byPid) {
    const prior = before.byPid.get(pid);
    const used = prior && prior.role === role ? ms - prior.ms : ms;
    if (used > 0) byRole.set(role, (byRole.get(role) ?? 0) + used);
  }
  const used = [...byRole].sort((a, b) => b[1] - a[1]);
  used.push(['idle', after.idleMs - before.idleMs]);
  return used;
}
