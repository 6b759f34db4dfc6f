// Where a saturation run's CPU goes: each process's user + system time (from /proc) over the run,
// grouped by role, per job. Linux only; elsewhere it says it could not measure.
import { cpuByRole, cpuUsed } from '../proc-cpu.js';

export interface CpuPerJob<T> {
  result: T;
  lines: string[];
  /** ms of CPU per job by role, and for all processes together (absent: not measured). */
  byRole?: Map<string, number>;
  busy?: number;
}

/** Runs `fn` (which completes `jobs` jobs) and returns lines of CPU milliseconds per job by role. */
export async function cpuPerJob<T>(jobs: number, fn: () => Promise<T>): Promise<CpuPerJob<T>> {
  const self = 'API + benchmark client (this process)';
  const before = cpuByRole(self);
  if (!before) return { result: await fn(), lines: ['(CPU by process not measured: no /proc)'] };
  const t0 = performance.now();
  const result = await fn();
  const wallMs = performance.now() - t0;
  const used = cpuUsed(before, cpuByRole(self) ?? before);
  const busy = used.filter(([role]) => role !== 'idle').reduce((s, [, ms]) => s + ms, 0);
  const lines = used.map(([role, ms]) => `${role}: ${(ms / jobs).toFixed(1)} ms/job (${((ms / wallMs) * 100).toFixed(0)}% of a core)`);
  lines.push(`all processes: ${(busy / jobs).toFixed(1)} ms of CPU per job over ${(wallMs / 1000).toFixed(1)} s`);
  return { result, lines, byRole: new Map(used.map(([role, ms]) => [role, ms / jobs])), busy: busy / jobs };
}
