import type { ApiDeps } from '../deps.js';

export interface CheckResult {
  status: 'up' | 'down';
  latency_ms: number;
  /** Always the same word: health replies are public, and a driver's message names hosts and ports. */
  error?: 'unavailable';
}
export type Checks = Record<'database' | 'temporal' | 'storage', CheckResult>;

const TIMEOUT_MS = 2_000;

export function createHealthService(deps: ApiDeps) {
  const probes: Record<keyof Checks, () => Promise<unknown>> = {
    database: () => deps.orm.em.getConnection().execute('select 1'),
    temporal: () =>
      deps.temporal.connection.withDeadline(Date.now() + TIMEOUT_MS, () =>
        deps.temporal.workflowService.getSystemInfo({}),
      ),
    storage: () => deps.storage.ping(),
  };
  return {
    /** Every dependency probed in parallel, each bounded by a short timeout; why one is down goes to the log only. */
    async check(): Promise<{ healthy: boolean; checks: Checks }> {
      const entries = await Promise.all(
        Object.entries(probes).map(async ([name, probe]) => [name, await timed(probe, (err) => deps.logger.warn({ err, dependency: name }, 'health check failed'))] as const),
      );
      const checks = Object.fromEntries(entries) as Checks;
      return { healthy: entries.every(([, c]) => c.status === 'up'), checks };
    },
  };
}

async function timed(probe: () => Promise<unknown>, failed: (err: unknown) => void): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
      }),
    ]);
    return { status: 'up', latency_ms: Math.round(performance.now() - started) };
  } catch (err) {
    failed(err);
    return { status: 'down', latency_ms: Math.round(performance.now() - started), error: 'unavailable' };
  } finally {
    clearTimeout(timer);
  }
}
