import type { PassThrough, Readable } from 'node:stream';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { JobStepSchema, ProcessingJobSchema, type JobStep } from '#entities/index.js';
import { ConflictError, NotFoundError } from '#lib/errors.js';
import { isTerminal } from '#workflows/job-status.js';
import { cancelUpdate, retrySignal, retryUpdate } from '#workflows/process-job.js';
import type { CancelRequest, ProcessJobInput, StepResult } from '#workflows/types.js';
import type { ApiDeps } from '../deps.js';
import type { JobDispatcher } from './job-dispatcher.js';
import type { JobEventHub } from './job-event-hub.js';
import { jobStoreOf, type JobRow, type JobService } from './job-service.js';
import { policyOf, workflowStartOptions } from './pipeline.js';
import { providerKeyStoreOf } from './provider-keys.js';
import { holdJobSlot } from './quota-service.js';
import { deleteEndedJobs } from '#domain/job-deletion.js';

/** Why the workflow refused an update (the validator's failure type), if it did. */
const rejection = (err: unknown): string | undefined =>
  err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure ? (err.cause.type ?? undefined) : undefined;

export interface JobEventRow {
  id: number;
  type: 'status' | 'progress';
  data: Record<string, unknown>;
}

/**
 * What callers do to a running job: cancel and retry (Temporal Updates to its workflow, answered
 * once the job store holds the new state), its steps and artifacts, and its event stream.
 */
export function createJobLifecycleService(deps: ApiDeps, jobs: JobService, hub: JobEventHub, dispatcher?: JobDispatcher) {
  const { orm, temporal, config, actions } = deps;
  const storedKeys = providerKeyStoreOf(deps);
  const store = jobStoreOf(deps);

  /**
   * Sends an update and waits for its answer, at most `cancelWaitMs` in all (the RPCs are aborted
   * then, and the job is answered as it stands: a workflow whose worker is away gets the request
   * when it comes back, or, not accepted, the caller may ask again).
   */
  async function answer<T>(call: () => Promise<T>): Promise<T | undefined> {
    const timeout = AbortSignal.timeout(config.lifecycle.cancelWaitMs);
    try {
      return await temporal.withAbortSignal(timeout, call);
    } catch (err) {
      if (timeout.aborted) return undefined;
      throw err;
    }
  }
  const accepted = { waitForStage: WorkflowUpdateStage.ACCEPTED } as const;

  /** The retry update to a run waiting for one; false when no run waits (its window is over). */
  async function retryRunningWorkflow(job: JobRow, by: string): Promise<boolean> {
    try {
      await answer(async () => (await temporal.workflow.getHandle(job.workflowId!).startUpdate(retryUpdate, { args: [{ by }], ...accepted })).result());
      return true;
    } catch (err) {
      const why = rejection(err);
      if (why === 'NO_RETRIES_LEFT') throw new ConflictError('The job has no retries left', { retry_count: job.retryCount, max_retries: job.maxRetries });
      // Not awaiting a retry although the store says failed: the run is closing or closed.
      if (err instanceof WorkflowNotFoundError || why === 'JOB_NOT_FAILED') return false;
      throw err;
    }
  }

  /** A new run of the job's workflow that resumes after the steps that succeeded. */
  async function startRetryRun(organizationId: string, job: JobRow, by: string): Promise<void> {
    const rows = await steps(job.id);
    const input = await orm.em.fork().findOneOrFail(ProcessingJobSchema, { id: job.id }, { populate: ['inputMedia'] });
    const media = input.inputMedia.getEntity();
    const pipeline = rows.map((row) => {
      const action = actions.get(row.actionId);
      if (!action) throw new ConflictError(`Action ${row.actionId} is no longer available`, { action_id: row.actionId });
      return { actionId: row.actionId, parameters: row.parameters, policy: policyOf(action) };
    });
    // A new run cannot recover the first run's request keys; the organization's stored ones are read again.
    const providerKeys = await storedKeys.forJob(organizationId);
    const workflowInput: ProcessJobInput = {
      jobId: job.id,
      organizationId,
      inputKey: media.storagePath,
      inputMimeType: media.mimeType,
      steps: pipeline,
      completed: rows.map((r) => (r.status === 'completed' && r.result ? (r.result as unknown as StepResult) : null)),
      retry: { windowMs: config.lifecycle.retryWindowMs, maxRetries: job.maxRetries, count: job.retryCount },
      infraRetry: config.infraRetry,
      retriedBy: by,
      ...(Object.keys(providerKeys).length ? { providerKeys } : {}),
    };
    await temporal.workflow.signalWithStart('processJob', {
      ...workflowStartOptions(config, job.workflowId!, {
        input: workflowInput,
        inputFilename: media.originalFilename,
        inputSizeBytes: media.fileSizeBytes,
        mediaType: media.mediaType,
      }),
      // The previous run has closed when the retry window is over: a new run may take the id.
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      signal: retrySignal,
      signalArgs: [{ by }],
    });
  }

  const steps = (jobId: string) => orm.em.fork().find(JobStepSchema, { job: jobId }, { orderBy: { stepIndex: 'asc' }, populate: ['resultMedia'] });

  return {
    steps,

    async cancel(organizationId: string, id: string, request: CancelRequest): Promise<JobRow> {
      const job = await jobs.get(organizationId, id);
      if (isTerminal(job.status)) throw new ConflictError(`Job is already ${job.status}`, { status: job.status });
      try {
        await answer(async () => (await temporal.workflow.getHandle(job.workflowId!).startUpdate(cancelUpdate, { args: [request], ...accepted })).result());
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) {
          // Still in the submission outbox: it is cancelled before its workflow ever starts.
          if (await dispatcher?.cancelUndispatched(job.id, request)) return jobs.get(organizationId, id);
          const now = await jobs.get(organizationId, id);
          throw new ConflictError(isTerminal(now.status) ? `Job is already ${now.status}` : 'Job is not running', { status: now.status });
        }
        if (!rejection(err)) throw err;
      }
      // The update answered once the store held the outcome: one read gives it.
      const after = await jobs.get(organizationId, id);
      if (after.status === 'completed' || after.status === 'failed') {
        throw new ConflictError(`Job ${after.status} before the cancel took effect`, { status: after.status });
      }
      return after;
    },

    /**
     * Asks the waiting workflow (an update answered once the job is queued again), or, its retry
     * window over and its run closed, starts a new run whose input carries the outputs of the steps
     * that succeeded. Either way the retry first takes a concurrent-jobs slot atomically (the job
     * store's claim, under the organization's lock).
     */
    async retry(organizationId: string, id: string, by: string): Promise<JobRow> {
      const job = await jobs.get(organizationId, id);
      if (job.status !== 'failed') throw new ConflictError(`Only a failed job can be retried; this one is ${job.status}`, { status: job.status });
      if (job.retryCount >= job.maxRetries) {
        throw new ConflictError('The job has no retries left', { retry_count: job.retryCount, max_retries: job.maxRetries });
      }
      if (!(await store.claimRetry(job.id, job.retryCount, (tx) => holdJobSlot(tx, config, organizationId)))) {
        throw new ConflictError('The job is already being retried', { status: 'queued' });
      }
      try {
        if (await retryRunningWorkflow(job, by)) return await jobs.get(organizationId, id);
        await startRetryRun(organizationId, job, by);
      } catch (err) {
        await store.releaseRetryClaim(job.id, job.retryCount).catch(() => undefined);
        throw err;
      }
      // The new run requeues the job too (idempotently); doing it here answers with it queued.
      await store.beginRetry({ jobId: job.id, by });
      return jobs.get(organizationId, id);
    },

    /**
     * DELETE of an ended job: its rows, results, artifacts, transcript and events (see
     * domain/job-deletion.ts), then its workflow execution and history in Temporal (a failed job's
     * run may still be waiting for a retry: deleting it ends it). False when the job is not ended.
     */
    async remove(organizationId: string, id: string): Promise<boolean> {
      const job = await jobs.get(organizationId, id);
      if (!isTerminal(job.status)) return false;
      const deleted = await deleteEndedJobs(orm.em.fork(), deps.storage, [job.id]);
      // Locked by a concurrent delete or retry, or no longer ended: as it stands now.
      if (!deleted.length) {
        const now = await orm.em.fork().findOne(ProcessingJobSchema, { id: job.id, organization: organizationId });
        if (!now) throw new NotFoundError('Job', id);
        throw new ConflictError(`Job is ${now.status}; try again`, { status: now.status });
      }
      if (job.workflowId) {
        await temporal.workflowService
          .deleteWorkflowExecution({ namespace: config.temporal.namespace, workflowExecution: { workflowId: job.workflowId } })
          .catch((err: unknown) => deps.logger.warn({ err, jobId: job.id }, 'could not delete the job workflow execution; it ends with the namespace retention'));
      }
      return true;
    },

    /** The outputs of the job's completed steps. */
    async artifacts(organizationId: string, id: string): Promise<JobStep[]> {
      const job = await jobs.get(organizationId, id);
      return (await steps(job.id)).filter((s) => s.status === 'completed' && s.resultType);
    },

    async artifact(
      organizationId: string,
      id: string,
      artifactId: string,
    ): Promise<{ kind: 'file'; stream: Readable; mimeType: string; size: number; filename: string } | { kind: 'json'; data: unknown }> {
      const artifact = (await this.artifacts(organizationId, id)).find((s) => s.id === artifactId);
      if (!artifact) throw new NotFoundError('Artifact', artifactId);
      const file = artifact.resultMedia?.getEntity();
      if (artifact.resultType === 'file') {
        if (!file || file.status !== 'ready') throw new NotFoundError('Artifact', artifactId);
        return { kind: 'file', stream: await deps.storage.get(file.storagePath), mimeType: file.mimeType, size: file.fileSizeBytes, filename: file.originalFilename };
      }
      return { kind: 'json', data: (artifact.resultData as { data?: unknown } | null)?.data ?? {} };
    },

    /**
     * The job's events after `afterId` as a Server-Sent Events stream, from the instance's event
     * hub (one read per job for all its streams, so any API instance can serve it at a bounded
     * cost). Ends after a terminal status event, or at once when the job is terminal and nothing is
     * left to send; a comment every 15 s keeps the connection open.
     */
    async events(organizationId: string, id: string, afterId: number, signal: AbortSignal): Promise<PassThrough> {
      const job = await jobs.get(organizationId, id);
      return hub.subscribe(job.id, afterId, isTerminal(job.status), signal);
    },
  };
}

export type JobLifecycleService = ReturnType<typeof createJobLifecycleService>;
