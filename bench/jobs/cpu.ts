// Where a saturation run's CPU goes: each process's user + system time (from /proc) over the run,
// grouped by role, per job. Linux only; elsewhere it says it could not measure.
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

const ROLES: [string, (cmd: string, comm: string) => boolean][] = [
  ['Temporal dev server', (cmd) => cmd.includes('temporal') && cmd.includes('start-dev')],
  ['MinIO', (cmd) => cmd.includes('minio') && cmd.includes(' server ')],
  ['Postgres', (_cmd, comm) => comm === 'postgres'],
  ['Redis', (_cmd, comm) => comm.startsWith('redis-server')],
  ['Mediaflow worker', (cmd) => cmd.includes('worker/main.ts')],
  ['BullMQ worker', (cmd) => cmd.includes('bullmq-worker')],
];

function snapshot(self: number): Map<string, number> {
  const byRole = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ms = (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const role = Number(pid) === self ? 'API + benchmark client (this process)' : (ROLES.find(([, is]) => is(cmd, comm))?.[0] ?? 'everything else');
      byRole.set(role, (byRole.get(role) ?? 0) + ms);
    } catch {
      // the process ended meanwhile
    }
  }
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  byRole.set('idle', ((cpu[3] ?? 0) + (cpu[4] ?? 0)) * TICK_MS);
  return byRole;
}

/** Runs `fn` (which completes `jobs` jobs) and returns lines of CPU milliseconds per job by role. */
export async function cpuPerJob<T>(jobs: number, fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  let before: Map<string, number>;
  try {
    before = snapshot(process.pid);
  } catch {
    return { result: await fn(), lines: ['(CPU by process not measured: no /proc)'] };
  }
  const t0 = performance.now();
  const result = await fn();
  const wallMs = performance.now() - t0;
  const after = snapshot(process.pid);
  // A process that started during the run counts from zero; one that ended is not counted.
  const used = [...after].map(([role, ms]) => [role, ms - (before.get(role) ?? 0)] as const).filter(([, ms]) => ms > 0);
  const busy = used.filter(([role]) => role !== 'idle').reduce((s, [, ms]) => s + ms, 0);
  const lines = used
    .sort((a, b) => b[1] - a[1])
    .map(([role, ms]) => `${role}: ${(ms / jobs).toFixed(1)} ms/job (${((ms / wallMs) * 100).toFixed(0)}% of a core)`);
  lines.push(`all processes: ${(busy / jobs).toFixed(1)} ms of CPU per job over ${(wallMs / 1000).toFixed(1)} s`);
  return { result, lines };
}
