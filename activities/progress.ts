import type { ActivityDeps } from './deps.js';

const WRITE_INTERVAL_MS = 1_000;

/**
 * Progress of one step (0–1) goes to the heartbeat every time, and at most once a second (the
 * first a second after the step started: a short step's start and end say enough) to the
 * job store (step row, job row with overall progress, event log): a best-effort write, never a
 * reason to fail the activity.
 */
export function reportProgress(
  deps: ActivityDeps,
  at: { jobId: string; stepIndex: number; totalSteps: number },
  heartbeat: (fraction: number) => void,
) {
  let lastWrite = Date.now();
  return (fraction: number): void => {
    heartbeat(fraction);
    const now = Date.now();
    if (now - lastWrite < WRITE_INTERVAL_MS) return;
    lastWrite = now;
    deps.jobs
      .progress(at, fraction)
      .catch((err: unknown) => deps.logger.warn({ err, jobId: at.jobId }, 'progress write failed'));
  };
}
