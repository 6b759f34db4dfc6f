import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { ProcessingJobSchema, type ProcessingJob } from '../../entities/index.js';
import { ConflictError, InvalidActionError, NotFoundError, ServiceUnavailableError, ValidationError } from '../../lib/errors.js';
import { workflowIdForJob, type ProcessJobInput } from '../../workflows/types.js';
import type { ApiDeps } from '../deps.js';
import type { MediaService } from './media-service.js';

export type JobRow = ProcessingJob;

export interface SubmitJob {
  /** Who submits (recorded on the job). */
  userId?: string;
  apiKeyId?: string;
  mediaId: string;
  actionId: string;
  parameters: Record<string, unknown>;
}

export function createJobService(deps: ApiDeps, media: MediaService) {
  const { orm, temporal, actions, config, clock, logger } = deps;
  return {
    /**
     * Records the job, then starts its workflow (id derived from the job id, so a repeated start
     * is harmless). A job whose workflow cannot be started is failed, never left pending.
     */
    async submit(organizationId: string, req: SubmitJob): Promise<JobRow> {
      const action = actions.get(req.actionId);
      if (!action) throw new InvalidActionError(`Unknown action: ${req.actionId}`, { action_id: req.actionId });
      const input = await media.get(organizationId, req.mediaId);
      if (input.mediaType !== action.mediaType) {
        throw new InvalidActionError(`Action ${action.actionId} applies to ${action.mediaType} files, not ${input.mediaType}`, {
          action_id: action.actionId,
          media_type: input.mediaType,
        });
      }
      const parameters = structuredClone(req.parameters);
      const problems = actions.validateParameters(action, parameters);
      if (problems.length) throw new ValidationError('Invalid action parameters', { fields: problems });

      const em = orm.em.fork();
      const id = randomUUID();
      const job = em.create(ProcessingJobSchema, {
        id,
        organization: organizationId,
        userId: req.userId ?? null,
        apiKeyId: req.apiKeyId ?? null,
        inputMedia: input.id,
        actionId: action.actionId,
        actionCategory: action.category,
        parameters,
        status: 'pending',
        workflowId: workflowIdForJob(id),
      });
      await em.flush();

      const workflowInput: ProcessJobInput = {
        jobId: id,
        organizationId,
        actionId: action.actionId,
        inputKey: input.storagePath,
        inputMimeType: input.mimeType,
        parameters,
        policy: {
          startToCloseMs: action.timeouts.startToCloseMs,
          heartbeatMs: action.timeouts.heartbeatMs,
          retry: action.retry,
          nonRetryableErrors: action.nonRetryableErrors,
        },
      };
      try {
        await temporal.workflow.start('processJob', {
          taskQueue: config.temporal.taskQueue,
          workflowId: job.workflowId!,
          args: [workflowInput],
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) {
          logger.error({ err, jobId: id }, 'could not start the job workflow');
          job.status = 'failed';
          job.errorCode = 'SERVICE_UNAVAILABLE';
          job.errorMessage = 'the job could not be queued';
          job.completedAt = clock.now();
          await em.flush();
          throw new ServiceUnavailableError('The job could not be queued; try again later', { job_id: id });
        }
      }
      // The workflow may already have moved the job on; only a pending job becomes queued.
      const queuedAt = clock.now();
      await em.nativeUpdate(ProcessingJobSchema, { id, status: 'pending' }, { status: 'queued', queuedAt });
      await em.refresh(job);
      return job;
    },

    async get(organizationId: string, id: string): Promise<JobRow> {
      const job = await orm.em.fork().findOne(ProcessingJobSchema, { id, organization: organizationId }, { populate: ['resultMedia'] });
      if (!job) throw new NotFoundError('Job', id);
      return job;
    },

    /** A completed job's result: a stream for file results, the data for JSON ones. */
    async result(
      organizationId: string,
      id: string,
    ): Promise<{ kind: 'file'; stream: Readable; mimeType: string; size: number; filename: string } | { kind: 'json'; data: unknown }> {
      const job = await this.get(organizationId, id);
      if (job.status !== 'completed') {
        throw new ConflictError(`Job is ${job.status}; its result is available once it has completed`, { status: job.status });
      }
      if (job.resultType === 'file' && job.resultMedia) {
        const file = job.resultMedia.getEntity();
        return {
          kind: 'file',
          stream: await deps.storage.get(file.storagePath),
          mimeType: file.mimeType,
          size: file.fileSizeBytes,
          filename: file.originalFilename,
        };
      }
      return { kind: 'json', data: (job.resultData as { data?: unknown } | null)?.data ?? {} };
    },
  };
}

export type JobService = ReturnType<typeof createJobService>;
