import type { ActivityDeps } from './deps.js';

const WRITE_INTERVAL_MS = 1_000;

/**
 * Progress of one step (0–1) goes to the heartbeat every time, and at most once a second to the
 * step row, the job row (overall progress: finished steps plus this step's fraction) and the job's
 * event log: a best-effort write, never a reason to fail the activity.
 */
export function reportProgress(
  deps: ActivityDeps,
  at: { jobId: string; stepIndex: number; totalSteps: number },
  heartbeat: (fraction: number) => void,
) {
  let lastWrite = 0;
  return (fraction: number): void => {
    heartbeat(fraction);
    const now = Date.now();
    if (now - lastWrite < WRITE_INTERVAL_MS) return;
    lastWrite = now;
    const step = Math.round(fraction * 1000) / 1000;
    const overall = Math.round(((at.stepIndex + step) / at.totalSteps) * 1000) / 1000;
    deps.orm.em
      .fork()
      .execute(
        `with j as (
           update "processing_jobs" set "progress" = greatest("progress", ?), "updated_at" = now()
           where "id" = ? and "status" = 'processing'
           returning "id", "progress", "total_steps"),
         s as (
           update "job_steps" set "progress" = ?, "updated_at" = now()
           where "job_id" = ? and "step_index" = ? and "status" = 'processing')
         insert into "job_events" ("job_id", "type", "data")
         select "id", 'progress', jsonb_build_object('progress', "progress", 'current_step', ?::int, 'total_steps', "total_steps", 'step_progress', ?::float8)
         from j`,
        [overall, at.jobId, step, at.jobId, at.stepIndex, at.stepIndex, step],
      )
      .catch((err: unknown) => deps.logger.warn({ err, jobId: at.jobId }, 'progress write failed'));
  };
}
