import { ActivityFailure, ApplicationFailure, CancellationScope, isCancellation, sleep, TimeoutFailure } from '@temporalio/workflow';
import { INFRASTRUCTURE } from './job-errors.js';
import type { ActivityPolicy, InfraRetry } from './types.js';

/** New runs count a step's attempts here, apart from outages (runs started before keep Temporal's count). */
export const INFRA_RETRY_PATCH = 'infra-retry-apart-from-attempts';

// When a job's input carries none (submitted by an API older than this workflow).
export const DEFAULT_INFRA_RETRY: InfraRetry = { initialIntervalMs: 1000, maximumIntervalMs: 30_000, giveUpAfterMs: 15 * 60_000 };

/**
 * Why a step's activity failed: `infra` for an outage it could not get past (storage, Postgres,
 * Temporal or the network: the activity says INFRASTRUCTURE) and for a worker that went away
 * mid-step (its heartbeats stopped, or it shut down before the step finished); `action` for
 * everything else, the action's own failures.
 */
export function failureKind(err: unknown): 'infra' | 'action' {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure && cause.type === INFRASTRUCTURE) return 'infra';
  // What the worker reports for a step still running when its shutdown grace ran out.
  if (cause instanceof ApplicationFailure && /^Worker is shutting down/.test(cause.message)) return 'infra';
  if (cause instanceof TimeoutFailure && cause.timeoutType === 'HEARTBEAT') return 'infra';
  return 'action';
}

/**
 * Runs one step's activity (scheduled by `run` with a single Temporal attempt) and does the retrying
 * itself, on two separate counts: the action's failures get the action's attempts and backoff
 * (`policy.retry`, non-retryable types fail at once); outages and worker deaths get the
 * infrastructure's policy, with jitter, for up to `infra.giveUpAfterMs` from the first of a run of
 * them (then INFRASTRUCTURE). `attempt` is the action's attempt, for the activity's own bookkeeping.
 */
export async function withStepAttempts<T>(policy: ActivityPolicy, infra: InfraRetry, run: (attempt: number) => Promise<T>): Promise<T> {
  let actionFailures = 0;
  let outageSince: number | undefined;
  let outages = 0;
  for (;;) {
    try {
      return await run(actionFailures + 1);
    } catch (err) {
      // A step cancelled without the job asking: its worker shut down before the step could finish.
      if (isCancellation(err) && CancellationScope.current().consideredCancelled) throw err;
      if (isCancellation(err) || failureKind(err) === 'infra') {
        outageSince ??= Date.now();
        const base = Math.min(infra.maximumIntervalMs, infra.initialIntervalMs * 2 ** Math.min(outages++, 30));
        const delay = Math.round(base / 2 + (Math.random() * base) / 2);
        if (Date.now() + delay - outageSince > infra.giveUpAfterMs) throw outlasted(err, infra);
        await sleep(delay);
        continue;
      }
      outageSince = undefined;
      outages = 0;
      const cause = err instanceof ActivityFailure ? err.cause : err;
      const app = cause instanceof ApplicationFailure ? cause : undefined;
      actionFailures++;
      if (app?.nonRetryable || (app?.type && policy.nonRetryableErrors.includes(app.type)) || actionFailures >= policy.retry.maximumAttempts) throw err;
      const { initialIntervalMs, backoffCoefficient, maximumIntervalMs } = policy.retry;
      await sleep(app?.nextRetryDelay ?? Math.min(maximumIntervalMs, initialIntervalMs * backoffCoefficient ** (actionFailures - 1)));
    }
  }
}

function outlasted(err: unknown, infra: InfraRetry): ApplicationFailure {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  const what = cause instanceof Error ? cause.message : String(cause);
  return ApplicationFailure.create({
    type: INFRASTRUCTURE,
    message: `a dependency stayed unavailable for more than ${Math.round(infra.giveUpAfterMs / 1000)} s: ${what}`.slice(0, 500),
    nonRetryable: true,
  });
}
