import { PassThrough, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowNotFoundError } from '@temporalio/client';
import { JobStepSchema, ProcessingJobSchema, type JobStep } from '../../entities/index.js';
import { ConflictError, NotFoundError } from '../../lib/errors.js';
import { cancelSignal, retrySignal } from '../../workflows/process-job.js';
import type { CancelRequest, ProcessJobInput, StepResult } from '../../workflows/types.js';
import type { ApiDeps } from '../deps.js';
import type { JobRow, JobService } from './job-service.js';
import { policyOf, workflowStartOptions } from './pipeline.js';
import { providerKeyStoreOf } from './provider-keys.js';
import { holdJobSlot } from './quota-service.js';

const TERMINAL = ['completed', 'failed', 'cancelled'];
const POLL_MS = 200;

export interface JobEventRow {
  id: number;
  type: 'status' | 'progress';
  data: Record<string, unknown>;
}

/**
 * What callers do to a running job: cancel and retry (signals to its workflow, which owns the
 * job's state: these only ask and then wait to see the outcome), its steps and artifacts, and its
 * event stream.
 */
export function createJobLifecycleService(deps: ApiDeps, jobs: JobService) {
  const { orm, temporal, config, actions } = deps;
  const storedKeys = providerKeyStoreOf(deps);

  /** Re-reads the job until `done` holds or `timeoutMs` passes; returns the last read. */
  async function waitForJob(organizationId: string, id: string, done: (j: JobRow) => boolean, timeoutMs: number): Promise<JobRow> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await jobs.get(organizationId, id);
      if (done(job) || Date.now() >= deadline) return job;
      await sleep(POLL_MS);
    }
  }

  const steps = (jobId: string) => orm.em.fork().find(JobStepSchema, { job: jobId }, { orderBy: { stepIndex: 'asc' }, populate: ['resultMedia'] });

  return {
    steps,

    async cancel(organizationId: string, id: string, request: CancelRequest): Promise<JobRow> {
      const job = await jobs.get(organizationId, id);
      if (TERMINAL.includes(job.status)) throw new ConflictError(`Job is already ${job.status}`, { status: job.status });
      try {
        await temporal.workflow.getHandle(job.workflowId!).signal(cancelSignal, request);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw new ConflictError('Job is not running', { status: job.status });
        throw err;
      }
      const after = await waitForJob(organizationId, id, (j) => TERMINAL.includes(j.status), config.lifecycle.cancelWaitMs);
      if (after.status === 'completed' || after.status === 'failed') {
        throw new ConflictError(`Job ${after.status} before the cancel took effect`, { status: after.status });
      }
      return after;
    },

    /**
     * Signals the waiting workflow, or (its retry window over) starts a new run of it whose input
     * carries the outputs of the steps that succeeded: signal-with-start does whichever applies.
     */
    async retry(organizationId: string, id: string, by: string): Promise<JobRow> {
      const job = await jobs.get(organizationId, id);
      if (job.status !== 'failed') throw new ConflictError(`Only a failed job can be retried; this one is ${job.status}`, { status: job.status });
      if (job.retryCount >= job.maxRetries) {
        throw new ConflictError('The job has no retries left', { retry_count: job.retryCount, max_retries: job.maxRetries });
      }
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
        retriedBy: by,
        ...(Object.keys(providerKeys).length ? { providerKeys } : {}),
      };
      // The retry takes a concurrent-jobs slot atomically: under the organization's lock the failed
      // job is claimed (queued, completed_at kept until the workflow's beginRetry requeues it), so
      // neither a concurrent retry of it nor another submission can take the same slot.
      const claimed = await orm.em.fork().transactional(async (tx) => {
        await holdJobSlot(tx, config, organizationId);
        return tx.nativeUpdate(ProcessingJobSchema, { id: job.id, status: 'failed', retryCount: job.retryCount }, { status: 'queued' });
      });
      if (!claimed) throw new ConflictError('The job is already being retried', { status: 'queued' });
      const release = () =>
        orm.em.fork().nativeUpdate(ProcessingJobSchema, { id: job.id, status: 'queued', retryCount: job.retryCount, completedAt: { $ne: null } }, { status: 'failed' });
      try {
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
      } catch (err) {
        await release().catch(() => undefined);
        throw err;
      }
      // The claim already says queued: wait for the workflow's own requeue (the retry count moves on).
      return waitForJob(organizationId, id, (j) => j.retryCount > job.retryCount || j.status === 'failed', config.lifecycle.cancelWaitMs);
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
     * The job's events after `afterId` as a Server-Sent Events stream, polled from job_events so
     * any API instance can serve it. Ends after a terminal status event, or at once when the job
     * is terminal and nothing is left to send; a comment every 15 s keeps the connection open.
     */
    async events(organizationId: string, id: string, afterId: number, signal: AbortSignal, pollMs = 500): Promise<PassThrough> {
      const job = await jobs.get(organizationId, id);
      const em = orm.em.fork();
      const out = new PassThrough();
      void (async () => {
        let last = afterId;
        let beat = Date.now();
        try {
          while (!signal.aborted) {
            const rows = await em.execute<{ id: string; type: string; data: Record<string, unknown> }[]>(
              `select "id", "type", "data" from "job_events" where "job_id" = ? and "id" > ? order by "id" limit 500`,
              [job.id, last],
            );
            let ended = false;
            for (const row of rows) {
              last = Number(row.id);
              out.write(`id: ${row.id}\nevent: ${row.type}\ndata: ${JSON.stringify(row.data)}\n\n`);
              ended = row.type === 'status' && TERMINAL.includes(String(row.data.status));
            }
            if (ended && rows.length < 500) break;
            if (!rows.length) {
              const [current] = await em.execute<{ status: string }[]>(`select "status" from "processing_jobs" where "id" = ?`, [job.id]);
              if (!current || TERMINAL.includes(current.status)) break;
              if (Date.now() - beat > 15_000) {
                out.write(': keep-alive\n\n');
                beat = Date.now();
              }
            }
            await sleep(pollMs, undefined, { signal }).catch(() => undefined);
          }
        } catch (err) {
          deps.logger.warn({ err, jobId: job.id }, 'job event stream failed');
        } finally {
          out.end();
        }
      })();
      return out;
    },
  };
}

export type JobLifecycleService = ReturnType<typeof createJobLifecycleService>;
