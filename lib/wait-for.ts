import type { Logger } from './logger.js';
import { describeInfraError, infraBackoffMs, type InfraRetryPolicy } from './infra-errors.js';

/**
 * What a process is still waiting for at start-up (Postgres, Temporal, storage): the API's
 * readiness answers 503 naming them until the set is empty.
 */
export type Waiting = Set<string>;

/**
 * Runs `connect` until it succeeds, however long the dependency takes to come up: a process that
 * starts before Postgres, Temporal or storage waits for them instead of exiting. Logs what it waits
 * for, once at first and then at most every 30 s, and when it is there.
 */
export async function waitFor<T>(
  what: string,
  connect: () => Promise<T>,
  deps: { logger: Logger; policy: Pick<InfraRetryPolicy, 'initialIntervalMs' | 'maximumIntervalMs'>; waiting?: Waiting; signal?: AbortSignal },
): Promise<T> {
  const started = Date.now();
  let lastLog = 0;
  deps.waiting?.add(what);
  for (let n = 0; ; n++) {
    try {
      const value = await connect();
      deps.waiting?.delete(what);
      if (n > 0) deps.logger.info({ dependency: what, waitedMs: Date.now() - started }, `${what} is reachable`);
      return value;
    } catch (err) {
      if (deps.signal?.aborted) throw err;
      if (Date.now() - lastLog >= 30_000) {
        lastLog = Date.now();
        deps.logger.warn({ dependency: what, cause: describeInfraError(err), waitedMs: Date.now() - started }, `waiting for ${what}`);
      }
      await new Promise((resolve) => setTimeout(resolve, infraBackoffMs({ ...deps.policy, maximumIntervalMs: Math.min(deps.policy.maximumIntervalMs, 5_000) }, n)));
    }
  }
}
