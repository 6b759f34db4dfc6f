import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { ProcessingJobSchema, type ProcessingJob } from '#entities/index.js';
import { createJobStore, type QueuedJob } from '#domain/job-store.js';
import { planPipeline, workflowStartOptions, type JobWorkflowStart, type StepRequest } from './pipeline.js';
import { DISPATCH_LEASE_MS, storedStart, type JobDispatcher } from './job-dispatcher.js';
import { ConflictError, NotFoundError, QuotaExceededError, ServiceUnavailableError, ValidationError } from '#lib/errors.js';
import { workflowIdForJob, type ProcessJobInput, type ProviderKeys } from '#workflows/types.js';
import type { ApiDeps } from '../deps.js';
import type { ProviderName } from '#lib/ai/ports.js';
import type { AiConfig } from '#lib/config.js';
import { providerKeyStoreOf } from './provider-keys.js';
import { holdJobSlot, jobQuotasOf, lockJobQuotas } from './quota-service.js';
import { createSubmissionRead } from './submission-read.js';
import { actionLimits, measuresOf } from '#domain/runtime.js';

export type JobRow = ProcessingJob;
/** A job as submitted: the fields a reply shows. */
export type SubmittedJob = QueuedJob;

/** The providers a job can use: those with a key (configured, stored or sent with the request) and the local ones. */
function reachableProviders(ai: AiConfig, keys: ProviderKeys): ProviderName[] {
  return [
    ...(ai.openai.apiKey || keys.openai ? (['openai'] as const) : []),
    ...(ai.anthropic.apiKey || keys.anthropic ? (['anthropic'] as const) : []),
    'tesseract',
    'local',
  ];
}

export interface SubmitJob {
  /** Who submits (recorded on the job). */
  userId?: string;
  apiKeyId?: string;
  mediaId: string;
  /** One action (with its parameters), or `steps`: a pipeline. */
  actionId?: string;
  parameters?: Record<string, unknown>;
  steps?: StepRequest[];
  /** The request's own AI provider keys (they win over the organization's stored ones): passed to the workflow only, never stored. */
  providerKeys?: ProviderKeys;
}

/** The job store as the API uses it (stateless: any number may exist). */
export const jobStoreOf = (deps: ApiDeps) =>
  createJobStore({ orm: deps.orm, clock: deps.clock, actions: deps.actions, retentionDays: deps.config.media.retentionDays });

export function createJobService(deps: ApiDeps, dispatcher?: JobDispatcher) {
  const { orm, temporal, actions, config, logger } = deps;
  const storedKeys = providerKeyStoreOf(deps);
  const readSubmission = createSubmissionRead(deps);
  const store = jobStoreOf(deps);
  return {
    /**
     * Records the job queued with its outbox row and answers; the dispatcher starts its workflow
     * (id derived from the job id, so a repeated start is harmless) right after, and retries until
     * it is started (api/services/job-dispatcher.ts). A request with its own provider keys (never
     * stored, so no outbox row can carry them) starts the workflow before answering, as does a
     * service without a dispatcher; there a job whose workflow cannot be started is failed, never
     * left pending.
     */
    async submit(organizationId: string, req: SubmitJob): Promise<SubmittedJob> {
      const requested = req.steps ?? (req.actionId ? [{ actionId: req.actionId, parameters: req.parameters ?? {} }] : []);
      if (!requested.length || (req.steps && req.actionId)) {
        throw new ValidationError('Give either action_id or steps', {
          fields: [{ field: req.steps ? 'action_id' : 'action_id', location: 'body', message: 'exactly one of action_id and steps is required' }],
        });
      }
      // One read before the job is recorded: a missing input answers 404 (first), a stored key that
      // cannot be decrypted refuses the submission.
      const outbox = dispatcher && !Object.values(req.providerKeys ?? {}).some(Boolean);
      const context = await readSubmission(organizationId, req.mediaId);
      const input = context.input;
      if (!input) throw new NotFoundError('Media file', req.mediaId);
      const stored = storedKeys.openAll(organizationId, context.keys);
      if (!context.organizationExists) throw new NotFoundError('Organization');
      const quotas = outbox ? jobQuotasOf(context.settings, config) : undefined;
      const providerKeys = { ...stored, ...req.providerKeys };
      const steps = planPipeline(actions, input.mediaType, requested, config.lifecycle.maxPipelineSteps, reachableProviders(config.ai, providerKeys), {
        limits: actionLimits(config),
        input: measuresOf(input.metadata),
      });
      const first = actions.get(steps[0]!.actionId)!;

      const id = randomUUID();
      const workflowInput: ProcessJobInput = {
        jobId: id,
        organizationId,
        inputKey: input.storagePath,
        inputMimeType: input.mimeType,
        steps,
        retry: { windowMs: config.lifecycle.retryWindowMs, maxRetries: config.lifecycle.maxRetries, count: 0 },
        infraRetry: config.infraRetry,
        ...(Object.keys(providerKeys).length ? { providerKeys } : {}),
      };
      const start: JobWorkflowStart = {
        input: workflowInput,
        inputFilename: input.originalFilename,
        inputSizeBytes: input.fileSizeBytes,
        mediaType: input.mediaType,
      };
      const newJob = {
          id,
          organizationId,
          userId: req.userId ?? null,
          apiKeyId: req.apiKeyId ?? null,
          inputMediaId: input.id,
          actionId: first.actionId,
          actionCategory: first.priceTier,
          workflowId: workflowIdForJob(id),
          maxRetries: config.lifecycle.maxRetries,
          steps,
      };
      const dispatch = outbox ? { start: storedStart(start), notBefore: new Date(deps.clock.now().getTime() + DISPATCH_LEASE_MS) } : undefined;
      if (dispatch && quotas) {
        // One statement records the job queued, its steps, event and outbox row; with a quota to
        // hold, in a transaction after the organization's row is locked and its quotas read again.
        const admit = quotas.concurrentJobs === 0 ? undefined : lockJobQuotas(config, organizationId);
        const queued = await store.createQueued(newJob, { retentionHours: quotas.retentionHours, ...dispatch, ...(admit ? { admit } : {}) });
        if ('refused' in queued) throw new QuotaExceededError('concurrent_jobs', queued.refused.concurrentJobs, 5);
        dispatcher!.dispatch(id, queued.workflowId!, start);
        return queued;
      }
      // The job is admitted against the concurrent-jobs quota in the transaction that records it.
      const em = orm.em.fork();
      const job = await store.create(em, (tx) => holdJobSlot(tx, config, organizationId), newJob);

      try {
        await temporal.workflow.start('processJob', { ...workflowStartOptions(config, job.workflowId!, start), workflowIdReusePolicy: 'REJECT_DUPLICATE' });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) {
          logger.error({ err, jobId: id }, 'could not start the job workflow');
          await store.failSubmission(id, { code: 'SERVICE_UNAVAILABLE', message: 'the job could not be queued' });
          throw new ServiceUnavailableError('The job could not be queued; try again later', { job_id: id });
        }
      }
      const queuedAt = await store.markQueued(id);
      if (queuedAt) {
        // The reply shows what the statement just wrote; a job the workflow already moved on is read again.
        job.status = 'queued';
        job.queuedAt = queuedAt;
      } else {
        await em.refresh(job);
      }
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
        // Its media file was deleted since (DELETE /media/{id}, retention): gone, not a server error.
        if (file.status !== 'ready') throw new NotFoundError('Job result', id);
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
