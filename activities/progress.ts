import { ProcessingJobSchema } from '../entities/index.js';
import type { ActivityDeps } from './deps.js';

const WRITE_INTERVAL_MS = 1_000;

/**
 * Progress goes to the heartbeat every time and to the job row at most once a second:
 * a best-effort write, never a reason to fail the activity.
 */
export function reportProgress(deps: ActivityDeps, jobId: string, heartbeat: (fraction: number) => void) {
  let lastWrite = 0;
  return (fraction: number): void => {
    heartbeat(fraction);
    const now = Date.now();
    if (now - lastWrite < WRITE_INTERVAL_MS) return;
    lastWrite = now;
    deps.orm.em
      .fork()
      .nativeUpdate(ProcessingJobSchema, { id: jobId, status: 'processing' }, { progress: Math.round(fraction * 1000) / 1000 })
      .catch((err: unknown) => deps.logger.warn({ err, jobId }, 'progress write failed'));
  };
}
