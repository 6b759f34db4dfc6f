import type { ActivityDeps } from '../deps.js';

const WRITE_INTERVAL_MS = 1_000;
/** The step's progress before the pieces (planning) and the share the pieces fill together. */
const PLANNED = 0.1;
const PIECES_SHARE = 0.85;

/**
 * Progress of one piece of a step transcribed in pieces. The pieces run in parallel, each in its
 * own activity, so each adds what it gained since its last write to the step's progress (1/n of
 * the pieces' share for a whole piece); the job's progress follows the step's. `before` is what an
 * earlier attempt of this piece already added (its last heartbeat), so a retry does not count it
 * twice. Best effort, like every progress write.
 */
export function pieceProgress(deps: ActivityDeps, at: { jobId: string; stepIndex: number; totalSteps: number; pieceCount: number }, before: number) {
  let written = before;
  let lastWrite = 0;
  return (fraction: number): void => {
    const now = Date.now();
    if (fraction < 1 && now - lastWrite < WRITE_INTERVAL_MS) return;
    const gain = ((fraction - written) * PIECES_SHARE) / at.pieceCount;
    if (gain <= 0) return;
    lastWrite = now;
    written = fraction;
    deps.orm.em
      .fork()
      .execute(
        `with s as (
           update "job_steps" set "progress" = least(greatest("progress", ?) + ?, ?), "updated_at" = now()
           where "job_id" = ? and "step_index" = ? and "status" = 'processing'
           returning "progress"),
         j as (
           update "processing_jobs" set "progress" = greatest("progress", round(((? + (select "progress" from s)) / "total_steps")::numeric, 3)), "updated_at" = now()
           where "id" = ? and "status" = 'processing' and exists (select 1 from s)
           returning "id", "progress", "total_steps")
         insert into "job_events" ("job_id", "type", "data")
         select "id", 'progress', jsonb_build_object('progress', "progress", 'current_step', ?::int, 'total_steps', "total_steps", 'step_progress', round((select "progress" from s)::numeric, 3))
         from j`,
        [PLANNED, gain, PLANNED + PIECES_SHARE, at.jobId, at.stepIndex, at.stepIndex, at.jobId, at.stepIndex],
      )
      .catch((err: unknown) => deps.logger.warn({ err, jobId: at.jobId }, 'progress write failed'));
  };
}
