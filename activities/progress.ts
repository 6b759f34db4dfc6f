import type { ActivityDeps } from './deps.js';

const WRITE_INTERVAL_MS = 1_000;
/** A step that moves fast gets a write sooner, so a few seconds of work still shows its progress. */
const FAST_WRITE_INTERVAL_MS = 250;
const FAST_WRITE_STEP = 0.1;

/**
 * Progress of one step (0–1) goes to the heartbeat every time, and to the job store (step row,
 * job row with overall progress, event log) at most once a second, or once every 250 ms when it
 * moved by a tenth since the last write. Nothing is written in a step's first 250 ms: a short
 * step's start and end say enough. A best-effort write, never a reason to fail the activity.
 */
export function reportProgress(
  deps: Pick<ActivityDeps, 'jobs' | 'logger'>,
  at: { jobId: string; stepIndex: number; totalSteps: number },
  heartbeat: (fraction: number) => void,
  now: () => number = Date.now,
) {
  let lastWrite = now();
  let written = 0;
  return (fraction: number): void => {
    heartbeat(fraction);
    const t = now();
    const since = t - lastWrite;
    if (since < WRITE_INTERVAL_MS && !(since >= FAST_WRITE_INTERVAL_MS && fraction - written >= FAST_WRITE_STEP)) return;
    lastWrite = t;
    written = fraction;
    deps.jobs
      .progress(at, fraction)
      .catch((err: unknown) => deps.logger.warn({ err, jobId: at.jobId }, 'progress write failed'));
  };
}
