import { ref } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { JobStepSchema, MediaFileSchema, ProcessingJobSchema, type ProcessingJob } from '../entities/index.js';
import type { JobError, StepResult } from '../workflows/types.js';
import type { ActivityDeps } from './deps.js';
import { appendJobEvent, statusEventData } from './job-events.js';
import { recordStepUsage } from './usage.js';

const TERMINAL = ['completed', 'failed', 'cancelled'];

export interface StepOutcome {
  jobId: string;
  stepIndex: number;
  /** Size of the step's input when it is an earlier step's file; null: the job's input file. */
  inputSizeBytes: number | null;
  result?: StepResult;
  error?: JobError;
}

/**
 * Job and step row updates made by the workflow. Each is idempotent (activities may run more than
 * once) and appends the job event its change implies in the same transaction.
 */
export function createJobBookkeeping(deps: ActivityDeps) {
  const observeDuration = (job: { actionId: string; status: string; processingTimeMs?: number | null }) => {
    if (job.processingTimeMs != null) {
      deps.metrics.jobDuration.observe({ action_id: job.actionId, status: job.status }, job.processingTimeMs / 1000);
    }
  };
  const inTx = <T>(fn: (tx: EntityManager) => Promise<T>) => deps.orm.em.fork().transactional((tx) => fn(tx as EntityManager));
  const finish = (job: ProcessingJob, status: 'completed' | 'failed' | 'cancelled') => {
    const now = deps.clock.now();
    job.status = status;
    job.completedAt = now;
    job.processingTimeMs = job.startedAt ? now.getTime() - job.startedAt.getTime() : null;
  };

  return {
    async markJobProcessing(jobId: string): Promise<void> {
      await inTx(async (tx) => {
        const job = await tx.findOneOrFail(ProcessingJobSchema, { id: jobId });
        if (TERMINAL.includes(job.status) || job.status === 'processing') return;
        job.status = 'processing';
        job.startedAt ??= deps.clock.now();
        await tx.flush();
        await appendJobEvent(tx, jobId, 'status', statusEventData(job));
      });
    },

    async startStep(input: { jobId: string; stepIndex: number }): Promise<void> {
      await inTx(async (tx) => {
        const job = await tx.findOneOrFail(ProcessingJobSchema, { id: input.jobId });
        const step = await tx.findOneOrFail(JobStepSchema, { job: input.jobId, stepIndex: input.stepIndex });
        if (TERMINAL.includes(job.status) || step.status === 'completed' || step.status === 'processing') return;
        step.status = 'processing';
        step.startedAt = deps.clock.now();
        step.completedAt = null;
        step.progress = 0;
        job.currentStep = input.stepIndex;
        job.progress = Math.max(Number(job.progress), input.stepIndex / job.totalSteps);
        await tx.flush();
        await appendJobEvent(tx, input.jobId, 'progress', { progress: Number(job.progress), current_step: input.stepIndex, total_steps: job.totalSteps, step_progress: 0 });
      });
    },

    /**
     * Records a step's outcome: its output (a media_files row for a file, the JSON in the step row),
     * or its error. The one place a step is completed or failed.
     */
    async recordStepResult(input: StepOutcome): Promise<void> {
      await inTx(async (tx) => {
        const job = await tx.findOneOrFail(ProcessingJobSchema, { id: input.jobId }, { populate: ['inputMedia'] });
        const step = await tx.findOneOrFail(JobStepSchema, { job: input.jobId, stepIndex: input.stepIndex });
        if (step.status === 'completed' || (input.error && step.status === 'failed')) return;
        const now = deps.clock.now();
        const jobInput = job.inputMedia.getEntity();
        step.completedAt = now;
        step.processingTimeMs = step.startedAt ? now.getTime() - step.startedAt.getTime() : null;
        const { result } = input;
        if (result?.type === 'file') {
          const media = tx.create(MediaFileSchema, {
            organization: job.organization,
            originalFilename: resultFilename(jobInput.originalFilename, result.extension),
            storedFilename: result.key.split('/').pop()!,
            mimeType: result.mimeType,
            mediaType: mediaTypeOf(result.mimeType),
            fileSizeBytes: result.sizeBytes,
            storagePath: result.key,
            checksumMd5: result.checksumMd5,
            checksumSha256: result.checksumSha256,
            status: 'ready',
            metadata: result.data ?? {},
            expiresAt: new Date(now.getTime() + deps.retentionDays * 86_400_000),
          });
          step.resultMedia = ref(media);
          step.resultType = 'file';
          step.resultData = { mime_type: result.mimeType, file_size_bytes: result.sizeBytes, ...(result.data ? { data: result.data } : {}) };
        } else if (result) {
          step.resultType = 'json';
          step.resultData = { data: result.data };
          if (result.usage) {
            job.aiProvider = result.usage.provider;
            job.aiTokensUsed = (job.aiTokensUsed ?? 0) + result.usage.inputTokens + result.usage.outputTokens;
          }
        }
        if (result) {
          step.status = 'completed';
          step.progress = 1;
          step.result = result as unknown as Record<string, unknown>;
          step.errorCode = null;
          step.errorMessage = null;
          job.progress = Math.max(Number(job.progress), (input.stepIndex + 1) / job.totalSteps);
        } else {
          step.status = 'failed';
          step.errorCode = (input.error?.code ?? 'PROCESSING_ERROR').slice(0, 50);
          step.errorMessage = input.error?.message ?? null;
        }
        await tx.flush();
        const tokens = result?.type === 'json' && result.usage ? result.usage.inputTokens + result.usage.outputTokens : null;
        await recordStepUsage(tx, {
          organizationId: job.organization.id,
          jobId: job.id,
          stepIndex: input.stepIndex,
          userId: job.userId,
          apiKeyId: job.apiKeyId,
          actionId: step.actionId,
          actionCategory: deps.actions.get(step.actionId)?.category ?? job.actionCategory,
          mediaType: deps.actions.get(step.actionId)?.mediaType ?? jobInput.mediaType,
          bytesIn: input.inputSizeBytes ?? jobInput.fileSizeBytes,
          bytesOut: !result ? 0 : result.type === 'file' ? result.sizeBytes : Buffer.byteLength(JSON.stringify(result.data)),
          processingTimeMs: step.processingTimeMs ?? null,
          aiProvider: result?.type === 'json' ? result.usage?.provider : null,
          aiTokens: tokens,
          succeeded: Boolean(result),
        });
        await appendJobEvent(tx, input.jobId, 'progress', {
          progress: Number(job.progress),
          current_step: input.stepIndex,
          total_steps: job.totalSteps,
          step_progress: Number(step.progress),
          step_status: step.status,
        });
      });
    },

    /** Completes the job; its result is the last step's output (GET /api/v1/jobs/{id}/result). */
    async completeJob(jobId: string): Promise<void> {
      const finished = await inTx(async (tx) => {
        const job = await tx.findOneOrFail(ProcessingJobSchema, { id: jobId });
        if (TERMINAL.includes(job.status)) return undefined;
        const last = await tx.findOneOrFail(JobStepSchema, { job: jobId }, { orderBy: { stepIndex: 'desc' } });
        job.resultType = last.resultType === 'file' ? 'file' : 'json';
        job.resultMedia = last.resultMedia ?? null;
        job.resultData = last.resultData ?? { data: {} };
        job.progress = 1;
        job.currentStep = last.stepIndex;
        finish(job, 'completed');
        await tx.flush();
        await appendJobEvent(tx, jobId, 'status', statusEventData(job));
        return job;
      });
      if (finished) observeDuration(finished);
    },

    async failJob(jobId: string, error: JobError): Promise<void> {
      const failed = await inTx(async (tx) => {
        const job = await tx.findOneOrFail(ProcessingJobSchema, { id: jobId });
        if (TERMINAL.includes(job.status)) return undefined;
        job.errorCode = error.code.slice(0, 50);
        job.errorMessage = error.message;
        finish(job, 'failed');
        await tx.flush();
        await appendJobEvent(tx, jobId, 'status', statusEventData(job));
        return job;
      });
      if (failed) observeDuration(failed);
    },

    /** Records a cancellation once the running step's activity has stopped. */
    async cancelJob(input: { jobId: string; by: string; reason?: string }): Promise<void> {
      const cancelled = await inTx(async (tx) => {
        const job = await tx.findOneOrFail(ProcessingJobSchema, { id: input.jobId });
        if (TERMINAL.includes(job.status)) return undefined;
        finish(job, 'cancelled');
        job.cancelledAt = job.completedAt;
        job.cancelledBy = input.by.slice(0, 255);
        job.cancelReason = input.reason ?? null;
        await tx.flush();
        await tx.nativeUpdate(JobStepSchema, { job: input.jobId, status: { $in: ['pending', 'processing'] } }, { status: 'cancelled', completedAt: job.completedAt });
        await appendJobEvent(tx, input.jobId, 'status', statusEventData(job));
        return job;
      });
      if (cancelled) observeDuration(cancelled);
    },

    /** Puts a failed job back in the queue for a retry; returns the job's retry count. */
    async beginRetry(input: { jobId: string; by: string }): Promise<number> {
      return inTx(async (tx) => {
        const job = await tx.findOneOrFail(ProcessingJobSchema, { id: input.jobId });
        // 'queued' with completed_at still set: the API admitted this retry against the quota (a claim).
        const claimed = job.status === 'queued' && job.completedAt !== null;
        if (job.status !== 'failed' && !claimed) return job.retryCount;
        job.status = 'queued';
        job.retryCount += 1;
        job.errorCode = null;
        job.errorMessage = null;
        job.completedAt = null;
        job.processingTimeMs = null;
        await tx.flush();
        await tx.nativeUpdate(JobStepSchema, { job: input.jobId, status: { $ne: 'completed' } }, { status: 'pending', progress: 0 });
        await appendJobEvent(tx, input.jobId, 'status', { ...statusEventData(job), retried_by: input.by });
        return job.retryCount;
      });
    },
  };
}

const mediaTypeOf = (mimeType: string) => (mimeType.startsWith('audio/') ? 'audio' : 'image');

function resultFilename(original: string, extension: string): string {
  const base = original.replace(/\.[^.]*$/, '') || 'result';
  return `${base}.${extension}`.slice(0, 255);
}
