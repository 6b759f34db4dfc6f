import type { MikroORM } from '@mikro-orm/postgresql';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ProcessingJobSchema } from '#entities/index.js';
import { OPEN_JOB_STATUSES } from '#workflows/job-status.js';
import type { JobStore } from '#domain/job-store.js';
import type { Logger } from '#lib/logger.js';
import type { Background } from './worker-group.js';

const BATCH = 100;

/** Why a job whose workflow closed without recording an outcome failed, by the workflow's status. */
export const RECONCILE_REASONS: Record<string, { code: string; message: string }> = {
  TERMINATED: { code: 'WORKFLOW_TERMINATED', message: 'workflow terminated by an operator' },
  TIMED_OUT: { code: 'WORKFLOW_TIMED_OUT', message: 'workflow timed out' },
  NOT_FOUND: { code: 'WORKFLOW_NOT_FOUND', message: 'the job has no workflow' },
};
export const RECONCILE_OTHER = { code: 'WORKFLOW_CLOSED', message: 'workflow closed without recording the job outcome' };

/**
 * The workflow records every outcome it reaches, but not one it never reaches: a workflow
 * terminated from the Temporal Web UI (or timed out, or reset away) leaves its job open. Every
 * `intervalMs` the worker looks at open jobs untouched for `graceMs` and fails those whose workflow
 * is closed. Several workers may sweep at once: the update only applies to a job still open.
 */
export function createJobReconciler(deps: { orm: MikroORM; jobs: JobStore; temporal: Client; logger: Logger; intervalMs: number; graceMs: number }): Background & {
  sweep(): Promise<number>;
} {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;

  async function sweep(): Promise<number> {
    const em = deps.orm.em.fork();
    const jobs = await em.find(
      ProcessingJobSchema,
      { status: { $in: [...OPEN_JOB_STATUSES] }, updatedAt: { $lt: new Date(Date.now() - deps.graceMs) } },
      { orderBy: { updatedAt: 'asc' }, limit: BATCH },
    );
    // A job still in the submission outbox has no workflow yet because nobody could start it so far
    // (Temporal was away): the API's dispatcher will, so it is not failed for that.
    const waiting = jobs.length
      ? new Set(
          (await em.execute<{ job_id: string }[]>(`select "job_id" from "job_dispatches" where "job_id" in (${jobs.map(() => '?').join(', ')})`, jobs.map((j) => j.id))).map(
            (r) => r.job_id,
          ),
        )
      : new Set<string>();
    let reconciled = 0;
    for (const job of jobs) {
      if (waiting.has(job.id)) continue;
      const closed = await closedStatus(job.workflowId ?? `job-${job.id}`);
      if (!closed) continue;
      const reason = RECONCILE_REASONS[closed] ?? RECONCILE_OTHER;
      if (!(await deps.jobs.reconcileClosed(job.id, reason))) continue;
      reconciled++;
      deps.logger.warn({ jobId: job.id, workflowStatus: closed }, 'job reconciled to failed: its workflow closed without an outcome');
    }
    return reconciled;
  }

  async function closedStatus(workflowId: string): Promise<string | undefined> {
    try {
      const { status } = await deps.temporal.workflow.getHandle(workflowId).describe();
      return status.name === 'RUNNING' ? undefined : status.name;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return 'NOT_FOUND';
      throw err;
    }
  }

  return {
    sweep,
    start() {
      if (deps.intervalMs <= 0 || timer) return;
      timer = setInterval(() => {
        if (running) return;
        running = sweep()
          .catch((err: unknown) => deps.logger.warn({ err }, 'job reconciliation sweep failed'))
          .finally(() => (running = undefined));
      }, deps.intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
