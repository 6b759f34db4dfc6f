import type { EntityManager } from '@mikro-orm/postgresql';
import type { ProcessingJob } from '../entities/index.js';

/**
 * The job event log (job_events) that GET /api/v1/jobs/{id}/events streams. Bookkeeping activities
 * append to it in the transaction that changes the job, so an event exists exactly when the change
 * does; any API instance serves the stream by reading the table.
 */
export async function appendJobEvent(em: EntityManager, jobId: string, type: 'status' | 'progress', data: Record<string, unknown>): Promise<void> {
  await em.execute(`insert into "job_events" ("job_id", "type", "data") values (?, ?, ?)`, [jobId, type, JSON.stringify(data)]);
}

/** What a status event says about the job. */
export function statusEventData(job: ProcessingJob): Record<string, unknown> {
  return {
    status: job.status,
    progress: Number(job.progress),
    current_step: job.currentStep ?? null,
    total_steps: job.totalSteps,
    retry_count: job.retryCount,
    ...(job.status === 'failed' ? { error: { code: job.errorCode, message: job.errorMessage } } : {}),
    ...(job.status === 'cancelled' ? { cancelled_at: job.cancelledAt?.toISOString() ?? null, cancel_reason: job.cancelReason ?? null } : {}),
  };
}
