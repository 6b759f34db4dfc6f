import { LockMode, ref } from '@mikro-orm/core';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { JobStepSchema, MediaFileSchema, ProcessingJobSchema, type ProcessingJob } from '#entities/index.js';
import type { Clock } from './clock.js';
import { createJobSubmissions } from './job-submission.js';
import { recordStepOutput, resultFilename } from './job-step-record.js';
import { recordStepUsage } from './usage.js';
import type { JobError, StepResult } from '#workflows/types.js';
import { isTerminal, TERMINAL_JOB_STATUSES, type JobStatus, type TerminalJobStatus } from '#workflows/job-status.js';
import { jobErrorCode } from '#workflows/job-errors.js';

/**
 * The job store: the only writer of processing_jobs, job_steps and job_events. Submission (API),
 * the workflow's bookkeeping and its step activity, progress, attempt counts and the reconciler all
 * go through it. Every transition locks the job row, is idempotent (activities may run more than
 * once; a reconciler may race a worker) and appends the event its change implies in the same
 * transaction, so an event exists exactly when its change does. A job it holds as terminal is
 * never moved again: its steps do not start, record results or bill.
 */
export interface JobStoreDeps {
  orm: MikroORM;
  clock: Clock;
  /** Step usage is billed by the action's price tier and recorded under its media type; without it, the job's. */
  actions?: { get(actionId: string): { priceTier: string; mediaType: string } | undefined };
  /** How long a result file is kept. */
  retentionDays: number;
  /** Called after a job reached a terminal state (the worker observes its duration). */
  onFinished?: (job: { actionId: string; status: string; processingTimeMs?: number | null }) => void;
}

export interface StepOutcome {
  jobId: string;
  stepIndex: number;
  /** Size of the step's input when it is an earlier step's file; null: the job's input file. */
  inputSizeBytes: number | null;
  result?: StepResult;
  error?: JobError;
}

/** What a step activity may do, as the store sees it when the step starts. */
export type StepStart =
  | { run: true; attempts: number }
  /** An earlier attempt recorded the step's output (a worker died after the commit): reuse it. */
  | { run: false; result: StepResult }
  /** The job is terminal: nothing of it runs. */
  | { run: false; terminal: TerminalJobStatus };

export interface ReconcileReason {
  code: string;
  message: string;
}

export type { JobFields } from './job-row.js';
export type { JobAdmission, NewJob, QueuedJob, QuotaRefusal, TxQuery } from './job-submission.js';

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

async function appendEvent(em: EntityManager, jobId: string, type: 'status' | 'progress', data: Record<string, unknown>): Promise<void> {
  await em.execute(`insert into "job_events" ("job_id", "type", "data") values (?, ?, ?)`, [jobId, type, JSON.stringify(data)]);
}

// The terminal statuses as an SQL list (fixed identifiers, not input).
const TERMINAL_SQL = TERMINAL_JOB_STATUSES.map((st) => `'${st}'`).join(', ');

const mediaTypeOf = (mimeType: string) => (mimeType.startsWith('audio/') ? 'audio' : 'image');

export function createJobStore(deps: JobStoreDeps) {
  const inTx = <T>(fn: (tx: EntityManager) => Promise<T>) => deps.orm.em.fork().transactional((tx) => fn(tx as EntityManager));
  const lockJob = (tx: EntityManager, jobId: string, populate: boolean = false) =>
    tx.findOneOrFail(ProcessingJobSchema, { id: jobId }, { lockMode: LockMode.PESSIMISTIC_WRITE, ...(populate ? { populate: ['inputMedia'] as never } : {}) });
  const finish = (job: ProcessingJob, status: TerminalJobStatus) => {
    const now = deps.clock.now();
    job.status = status;
    job.completedAt = now;
    job.processingTimeMs = job.startedAt ? now.getTime() - job.startedAt.getTime() : null;
  };
  const finished = (job: ProcessingJob | undefined) => {
    if (job) deps.onFinished?.(job);
    return job;
  };

  /** Marks a queued job processing (its first step starts). */
  async function markProcessing(tx: EntityManager, job: ProcessingJob): Promise<void> {
    if (job.status === 'processing' || isTerminal(job.status)) return;
    job.status = 'processing';
    job.startedAt ??= deps.clock.now();
    await tx.flush();
    await appendEvent(tx, job.id, 'status', statusEventData(job));
  }

  async function recordStep(tx: EntityManager, job: ProcessingJob, input: StepOutcome): Promise<boolean> {
    const step = await tx.findOneOrFail(JobStepSchema, { job: input.jobId, stepIndex: input.stepIndex });
    if (step.status === 'completed' || (input.error && step.status === 'failed')) return false;
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
        // A result goes with its job (the organization's retention from submission).
        expiresAt: job.expiresAt ?? new Date(now.getTime() + deps.retentionDays * 86_400_000),
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
      step.errorCode = jobErrorCode(input.error?.code);
      step.errorMessage = input.error?.message ?? null;
    }
    await tx.flush();
    const tokens = result?.type === 'json' && result.usage ? result.usage.inputTokens + result.usage.outputTokens : null;
    const action = deps.actions?.get(step.actionId);
    await recordStepUsage(tx, {
      organizationId: job.organization.id,
      jobId: job.id,
      stepIndex: input.stepIndex,
      userId: job.userId,
      apiKeyId: job.apiKeyId,
      actionId: step.actionId,
      actionCategory: action?.priceTier ?? job.actionCategory,
      mediaType: action?.mediaType ?? jobInput.mediaType,
      bytesIn: input.inputSizeBytes ?? jobInput.fileSizeBytes,
      bytesOut: !result ? 0 : result.type === 'file' ? result.sizeBytes : Buffer.byteLength(JSON.stringify(result.data)),
      processingTimeMs: step.processingTimeMs ?? null,
      aiProvider: result?.type === 'json' ? result.usage?.provider : null,
      aiTokens: tokens,
      succeeded: Boolean(result),
    });
    await appendEvent(tx, input.jobId, 'progress', {
      progress: Number(job.progress),
      current_step: input.stepIndex,
      total_steps: job.totalSteps,
      step_progress: Number(step.progress),
      step_status: step.status,
    });
    return true;
  }

  async function complete(tx: EntityManager, job: ProcessingJob): Promise<boolean> {
    if (isTerminal(job.status)) return false;
    const last = await tx.findOneOrFail(JobStepSchema, { job: job.id }, { orderBy: { stepIndex: 'desc' } });
    job.resultType = last.resultType === 'file' ? 'file' : 'json';
    job.resultMedia = last.resultMedia ?? null;
    job.resultData = last.resultData ?? { data: {} };
    job.progress = 1;
    job.currentStep = last.stepIndex;
    finish(job, 'completed');
    await tx.flush();
    await appendEvent(tx, job.id, 'status', statusEventData(job));
    return true;
  }

  async function fail(tx: EntityManager, job: ProcessingJob, error: JobError): Promise<boolean> {
    if (isTerminal(job.status)) return false;
    job.errorCode = jobErrorCode(error.code);
    job.errorMessage = error.message;
    finish(job, 'failed');
    await tx.flush();
    await appendEvent(tx, job.id, 'status', statusEventData(job));
    return true;
  }

  return {
    ...createJobSubmissions(deps),

    /**
     * A retry after the run closed, admitted like a submission: under `admit` (the quota) the
     * failed job is claimed (queued, completed_at kept until beginRetry requeues it), so neither a
     * concurrent retry of it nor another submission takes the same slot. False: already claimed.
     */
    async claimRetry(jobId: string, retryCount: number, admit: (tx: EntityManager) => Promise<unknown>): Promise<boolean> {
      return deps.orm.em.fork().transactional(async (tx) => {
        await admit(tx as EntityManager);
        return (await tx.nativeUpdate(ProcessingJobSchema, { id: jobId, status: 'failed', retryCount }, { status: 'queued' })) > 0;
      });
    },

    /** Gives a claim back when its workflow could not be started. */
    async releaseRetryClaim(jobId: string, retryCount: number): Promise<void> {
      await deps.orm.em.fork().nativeUpdate(ProcessingJobSchema, { id: jobId, status: 'queued', retryCount, completedAt: { $ne: null } }, { status: 'failed' });
    },

    /**
     * Its workflow started: a pending job becomes queued (the workflow may already have moved it on).
     * One statement: it sits on the submission's path. Returns the time it was queued at, or
     * undefined when the job was no longer pending.
     */
    async markQueued(jobId: string): Promise<Date | undefined> {
      const now = deps.clock.now();
      const rows = await deps.orm.em.fork().execute<{ id: string }[]>(
        `with j as (
           update "processing_jobs" set "status" = 'queued', "queued_at" = ?, "updated_at" = now()
           where "id" = ? and "status" = 'pending'
           returning "id", "progress", "current_step", "total_steps", "retry_count")
         insert into "job_events" ("job_id", "type", "data")
         select "id", 'status', jsonb_build_object('status', 'queued', 'progress', "progress", 'current_step', "current_step", 'total_steps', "total_steps", 'retry_count', "retry_count")
         from j returning "job_id"`,
        [now, jobId],
      );
      return rows.length ? now : undefined;
    },

    /** Its workflow could not be started: the job fails rather than stay pending. */
    async failSubmission(jobId: string, error: JobError): Promise<void> {
      finished(await inTx(async (tx) => {
        const job = await lockJob(tx, jobId);
        return (await fail(tx, job, error)) ? job : undefined;
      }));
    },

    /** The first workflow version marks the job processing apart from starting its step. */
    async markProcessing(jobId: string): Promise<void> {
      await inTx(async (tx) => markProcessing(tx, await lockJob(tx, jobId)));
    },

    /**
     * A step's activity starts: the job becomes processing, the step processing with one more
     * attempt. Returns the step's stored output instead when an earlier attempt recorded one, and
     * the job's status when it is terminal (then nothing runs). One statement (it sits on every
     * step's path): the job row is locked first, as in every transition (s0 depends on j0), then
     * the step's; both are updated and their events appended only when neither answer applies.
     */
    async startStep(input: { jobId: string; stepIndex: number; countAttempt?: boolean }): Promise<StepStart> {
      const now = deps.clock.now();
      const [row] = await deps.orm.em.fork().execute<{ job_status: JobStatus; step_status: string | null; result: StepResult | null; attempts: number | null }[]>(
        `with j0 as (select "id", "status" from "processing_jobs" where "id" = ? for update),
         s0 as (select "id", "status", "result" from "job_steps" where "job_id" = (select "id" from j0) and "step_index" = ? for update),
         go as (select j0."status" as "job_status", s0."status" as "step_status" from j0 join s0 on true
                where j0."status" not in (${TERMINAL_SQL}) and not (s0."status" = 'completed' and s0."result" is not null)),
         ju as (update "processing_jobs" j set
                  "status" = 'processing', "started_at" = coalesce(j."started_at", ?), "current_step" = ?,
                  "progress" = greatest(j."progress", ?::float8 / j."total_steps"), "updated_at" = now()
                from go where j."id" = ?
                returning j."id", j."progress", j."current_step", j."total_steps", j."retry_count", go."job_status" as "was"),
         su as (update "job_steps" s set
                  "attempts" = s."attempts" + ?,
                  "status" = 'processing',
                  "started_at" = case when go."step_status" = 'processing' then s."started_at" else ? end,
                  "completed_at" = case when go."step_status" = 'processing' then s."completed_at" else null end,
                  "progress" = case when go."step_status" = 'processing' then s."progress" else 0 end,
                  "updated_at" = now()
                from go where s."job_id" = ? and s."step_index" = ?
                returning s."attempts", go."step_status" as "was"),
         ev as (insert into "job_events" ("job_id", "type", "data")
                select "id", 'status', jsonb_build_object('status', 'processing', 'progress', "progress", 'current_step', "current_step", 'total_steps', "total_steps", 'retry_count', "retry_count")
                from ju where "was" <> 'processing'
                union all
                select ju."id", 'progress', jsonb_build_object('progress', ju."progress", 'current_step', ju."current_step", 'total_steps', ju."total_steps", 'step_progress', 0)
                from ju join su on su."was" <> 'processing')
         select j0."status" as "job_status", s0."status" as "step_status", s0."result", (select "attempts" from su) as "attempts"
         from j0 left join s0 on true`,
        [input.jobId, input.stepIndex, now, input.stepIndex, input.stepIndex, input.jobId, input.countAttempt === false ? 0 : 1, now, input.jobId, input.stepIndex],
      );
      if (!row || row.step_status === null) throw new Error(`job ${input.jobId} has no step ${input.stepIndex}`);
      // A job completed by its own steps (a worker died after the last step's commit, before Temporal
      // heard of it) goes on with the stored outputs, so its workflow still publishes job.completed.
      const ownCompletion = row.job_status === 'completed' && row.step_status === 'completed' && row.result !== null;
      if (isTerminal(row.job_status) && !ownCompletion) return { run: false, terminal: row.job_status };
      if (row.attempts === null) return { run: false, result: row.result! };
      return { run: true, attempts: row.attempts };
    },

    /** One more attempt of a step's activity (the first workflow version counts them apart from starting the step). */
    async countAttempt(at: { jobId: string; stepIndex: number }): Promise<void> {
      await deps.orm.em
        .fork()
        .execute(`update "job_steps" set "attempts" = "attempts" + 1, "updated_at" = now() where "job_id" = ? and "step_index" = ?`, [at.jobId, at.stepIndex]);
    },

    /**
     * Progress of a running step (0–1), best effort: one statement, applied only while job and step
     * are processing, with its event.
     */
    async progress(at: { jobId: string; stepIndex: number; totalSteps: number }, fraction: number): Promise<void> {
      const step = Math.round(fraction * 1000) / 1000;
      const overall = Math.round(((at.stepIndex + step) / at.totalSteps) * 1000) / 1000;
      await deps.orm.em.fork().execute(
        `with j as (
           update "processing_jobs" set "progress" = greatest("progress", ?), "updated_at" = now()
           where "id" = ? and "status" = 'processing'
           returning "id", "progress", "total_steps"),
         s as (
           update "job_steps" set "progress" = ?, "updated_at" = now()
           where "job_id" = ? and "step_index" = ? and "status" = 'processing')
         insert into "job_events" ("job_id", "type", "data")
         select "id", 'progress', jsonb_build_object('progress', "progress", 'current_step', ?::int, 'total_steps', "total_steps", 'step_progress', ?::float8)
         from j`,
        [overall, at.jobId, step, at.jobId, at.stepIndex, at.stepIndex, step],
      );
    },

    /**
     * Records a step's outcome (its output, or its error) with its usage; with `complete`, a
     * successful last step also completes the job in the same transaction. Returns false when the
     * job was already terminal (nothing recorded, nothing billed).
     */
    async finishStep(input: StepOutcome & { complete?: boolean }): Promise<{ recorded: boolean; status: JobStatus }> {
      let done: Parameters<NonNullable<JobStoreDeps['onFinished']>>[0] | undefined;
      const out = await inTx(async (tx) => {
        if (input.result) {
          const fast = await recordStepOutput(tx, { now: deps.clock.now(), retentionDays: deps.retentionDays, actions: deps.actions }, { ...input, result: input.result, complete: input.complete ?? false });
          if (fast.kind === 'terminal') return { recorded: false, status: fast.status };
          if (fast.kind === 'recorded') {
            done = fast.finished;
            return { recorded: true, status: fast.status };
          }
        }
        // An error outcome (the first workflow version), or a step already recorded: the general path.
        const job = await lockJob(tx, input.jobId, true);
        if (isTerminal(job.status)) return { recorded: false, status: job.status };
        const recorded = await recordStep(tx, job, input);
        if (input.complete && input.result && (await complete(tx, job))) done = job;
        return { recorded, status: job.status };
      });
      if (done) deps.onFinished?.(done);
      return out;
    },

    /** A step failed for good: the step's failure (billed as such) and the job's, in one transaction. */
    async failStep(input: StepOutcome & { error: JobError }): Promise<void> {
      finished(await inTx(async (tx) => {
        const job = await lockJob(tx, input.jobId, true);
        if (isTerminal(job.status)) return undefined;
        await recordStep(tx, job, input);
        return (await fail(tx, job, input.error)) ? job : undefined;
      }));
    },

    async completeJob(jobId: string): Promise<void> {
      finished(await inTx(async (tx) => {
        const job = await lockJob(tx, jobId);
        return (await complete(tx, job)) ? job : undefined;
      }));
    },

    async failJob(jobId: string, error: JobError): Promise<void> {
      finished(await inTx(async (tx) => {
        const job = await lockJob(tx, jobId);
        return (await fail(tx, job, error)) ? job : undefined;
      }));
    },

    /** Records a cancellation once the running step's activity has stopped. */
    async cancelJob(input: { jobId: string; by: string; reason?: string }): Promise<void> {
      finished(await inTx(async (tx) => {
        const job = await lockJob(tx, input.jobId);
        if (isTerminal(job.status)) return undefined;
        finish(job, 'cancelled');
        job.cancelledAt = job.completedAt;
        job.cancelledBy = input.by.slice(0, 255);
        job.cancelReason = input.reason ?? null;
        await tx.flush();
        await tx.nativeUpdate(JobStepSchema, { job: input.jobId, status: { $in: ['pending', 'processing'] } }, { status: 'cancelled', completedAt: job.completedAt });
        await appendEvent(tx, input.jobId, 'status', statusEventData(job));
        return job;
      }));
    },

    /** Puts a failed job back in the queue for a retry; returns the job's retry count. */
    async beginRetry(input: { jobId: string; by: string }): Promise<number> {
      return inTx(async (tx) => {
        const job = await lockJob(tx, input.jobId);
        // 'queued' with completed_at still set: the API admitted this retry against the
        // concurrent-jobs quota (claimRetry), and this requeues it.
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
        await appendEvent(tx, input.jobId, 'status', { ...statusEventData(job), retried_by: input.by });
        return job.retryCount;
      });
    },

    /** The reconciler: an open job whose workflow closed without an outcome fails with `reason`. */
    async reconcileClosed(jobId: string, reason: ReconcileReason): Promise<boolean> {
      const job = await inTx(async (tx) => {
        const job = await lockJob(tx, jobId);
        if (isTerminal(job.status)) return undefined;
        job.errorCode = jobErrorCode(reason.code);
        job.errorMessage = reason.message;
        finish(job, 'failed');
        await tx.flush();
        await tx.nativeUpdate(JobStepSchema, { job: jobId, status: 'processing' }, { status: 'failed', errorCode: jobErrorCode(reason.code), errorMessage: reason.message });
        await appendEvent(tx, jobId, 'status', statusEventData(job));
        return job;
      });
      return Boolean(finished(job));
    },

    /** The job's status as stored (undefined: no such job). */
    async status(jobId: string): Promise<JobStatus | undefined> {
      const [row] = await deps.orm.em.fork().execute<{ status: JobStatus }[]>(`select "status" from "processing_jobs" where "id" = ?`, [jobId]);
      return row?.status;
    },
  };
}

export type JobStore = ReturnType<typeof createJobStore>;
