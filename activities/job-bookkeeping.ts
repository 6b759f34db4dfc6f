import { ref } from '@mikro-orm/core';
import { MediaFileSchema, ProcessingJobSchema } from '../entities/index.js';
import type { StepResult } from '../workflows/types.js';
import type { ActivityDeps } from './deps.js';

const TERMINAL = ['completed', 'failed', 'cancelled'];

/** Job row updates made by the workflow. Each is idempotent: activities may run more than once. */
export function createJobBookkeeping(deps: ActivityDeps) {
  const observeDuration = (job: { actionId: string; status: string; processingTimeMs?: number | null }) => {
    if (job.processingTimeMs != null) {
      deps.metrics.jobDuration.observe({ action_id: job.actionId, status: job.status }, job.processingTimeMs / 1000);
    }
  };
  return {
    async markJobProcessing(jobId: string): Promise<void> {
      const em = deps.orm.em.fork();
      const job = await em.findOneOrFail(ProcessingJobSchema, { id: jobId });
      if (TERMINAL.includes(job.status)) return;
      job.status = 'processing';
      job.startedAt ??= deps.clock.now();
      await em.flush();
    },

    async completeJob(jobId: string, result: StepResult): Promise<void> {
      const em = deps.orm.em.fork();
      const finished = await em.transactional(async (tx) => {
        const job = await tx.findOneOrFail(ProcessingJobSchema, { id: jobId }, { populate: ['inputMedia'] });
        if (job.status === 'completed') return undefined;
        const now = deps.clock.now();
        if (result.type === 'file') {
          const input = job.inputMedia.getEntity();
          const media = tx.create(MediaFileSchema, {
            organization: job.organization,
            originalFilename: resultFilename(input.originalFilename, result.extension),
            storedFilename: result.key.split('/').pop()!,
            mimeType: result.mimeType,
            mediaType: result.mimeType.startsWith('audio/') ? 'audio' : 'image',
            fileSizeBytes: result.sizeBytes,
            storagePath: result.key,
            checksumMd5: result.checksumMd5,
            checksumSha256: result.checksumSha256,
            status: 'ready',
            metadata: result.data ?? {},
            expiresAt: new Date(now.getTime() + deps.retentionDays * 86_400_000),
          });
          job.resultMedia = ref(media);
          job.resultType = 'file';
          job.resultData = { mime_type: result.mimeType, file_size_bytes: result.sizeBytes, ...(result.data ? { data: result.data } : {}) };
        } else {
          job.resultType = 'json';
          job.resultData = { data: result.data };
          if (result.usage) {
            job.aiProvider = result.usage.provider;
            job.aiTokensUsed = result.usage.inputTokens + result.usage.outputTokens;
          }
        }
        job.status = 'completed';
        job.progress = 1;
        job.completedAt = now;
        job.processingTimeMs = job.startedAt ? now.getTime() - job.startedAt.getTime() : null;
        return job;
      });
      if (finished) observeDuration(finished);
    },

    async failJob(jobId: string, error: { code: string; message: string }): Promise<void> {
      const em = deps.orm.em.fork();
      const job = await em.findOneOrFail(ProcessingJobSchema, { id: jobId });
      if (TERMINAL.includes(job.status)) return;
      const now = deps.clock.now();
      job.status = 'failed';
      job.errorCode = error.code.slice(0, 50);
      job.errorMessage = error.message;
      job.completedAt = now;
      job.processingTimeMs = job.startedAt ? now.getTime() - job.startedAt.getTime() : null;
      await em.flush();
      observeDuration(job);
    },
  };
}

function resultFilename(original: string, extension: string): string {
  const base = original.replace(/\.[^.]*$/, '') || 'result';
  return `${base}.${extension}`.slice(0, 255);
}
