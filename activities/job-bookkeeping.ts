import type { JobError } from '#workflows/types.js';
import type { StepOutcome } from '#domain/job-store.js';
import type { ActivityDeps } from './deps.js';

export type { StepOutcome } from '#domain/job-store.js';

/**
 * The workflow's bookkeeping activities: each one transition of the job store (idempotent, with its
 * event in the same transaction). The second workflow version runs them as local activities (and
 * folds a step's own bookkeeping into runJobStep); the first still schedules them one by one.
 */
export function createJobBookkeeping(deps: ActivityDeps) {
  const { jobs } = deps;
  return {
    /** A step failed for good: its failure (billed as such) and the job's, in one transaction. */
    async failJobStep(input: StepOutcome & { error: JobError }): Promise<void> {
      await jobs.failStep(input);
    },
    async cancelJob(input: { jobId: string; by: string; reason?: string }): Promise<void> {
      await jobs.cancelJob(input);
    },
    /** Puts a failed job back in the queue for a retry; returns the job's retry count. */
    async beginRetry(input: { jobId: string; by: string }): Promise<number> {
      return jobs.beginRetry(input);
    },

    // The first workflow version's transitions, one activity each.
    async markJobProcessing(jobId: string): Promise<void> {
      await jobs.markProcessing(jobId);
    },
    async startStep(input: { jobId: string; stepIndex: number }): Promise<void> {
      await jobs.startStep({ ...input, countAttempt: false });
    },
    async recordStepResult(input: StepOutcome): Promise<void> {
      await jobs.finishStep(input);
    },
    async completeJob(jobId: string): Promise<void> {
      await jobs.completeJob(jobId);
    },
    async failJob(jobId: string, error: JobError): Promise<void> {
      await jobs.failJob(jobId, error);
    },
  };
}
