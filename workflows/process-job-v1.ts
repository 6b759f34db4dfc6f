// The job workflow as it ran before the engine folded bookkeeping into the step activity: kept,
// unchanged in the commands it issues, so that runs started by it finish on new workers (see
// process-job.ts). Only handlers were added: updates answer like the signals do.
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  condition,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '#activities/index.js';
import { isTerminal } from './job-status.js';
import { describeFailure, inputOf } from './job-helpers.js';
import { cancelSignal, cancelUpdate, getStateQuery, retrySignal, retryUpdate } from './job-messages.js';
import { searchAttributes } from './search-attributes.js';
import type {
  CancelRequest,
  JobError,
  JobEventName,
  JobState,
  JobStatus,
  PipelineStep,
  ProcessJobInput,
  ProviderKeys,
  RetryRequest,
  StepResult,
} from './types.js';

// Bookkeeping writes must land eventually, so they retry without limit; they are idempotent.
const bookkeepingOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
} as const;
const bookkeeping = proxyActivities<Activities>(bookkeepingOptions);

/**
 * One job: its steps run in order, each as its own activity with its action's timeouts and retry
 * policy; a step's file result is the next step's input. The workflow owns the job's state: every
 * change goes through a bookkeeping activity and the job's search attributes.
 *
 * Cancel: the `cancel` signal or a workflow cancellation (Temporal Web UI) cancels the running
 * activity and waits for it to confirm, then records `cancelled`.
 * Retry: a step that failed for good makes the job `failed`; the workflow then waits up to
 * `retry.windowMs` for a `retry` signal and resumes from the failed step. After the window it
 * closes as failed; a later retry starts a new run whose input carries the succeeded steps' outputs.
 */
export async function processJobV1(input: ProcessJobInput): Promise<{ status: JobStatus }> {
  const { jobId, steps } = input;
  const results: (StepResult | null)[] = steps.map((_, i) => input.completed?.[i] ?? null);
  const state: JobState = {
    jobId,
    status: 'queued',
    currentStep: Math.max(0, results.findIndex((r) => !r)),
    totalSteps: steps.length,
    awaitingRetry: false,
    retryCount: input.retry.count,
  };
  let cancelRequest: CancelRequest | undefined;
  let retryRequest: RetryRequest | undefined;
  let stepScope: CancellationScope | undefined;

  setHandler(getStateQuery, () => state);
  const cancel = (req: CancelRequest) => {
    if (isTerminal(state.status) || state.awaitingRetry) return;
    cancelRequest ??= req;
    stepScope?.cancel();
  };
  setHandler(cancelSignal, cancel);
  setHandler(retrySignal, (req) => {
    if (state.awaitingRetry) retryRequest ??= req;
  });
  setHandler(
    cancelUpdate,
    async (req): Promise<JobState> => {
      cancel(req);
      await condition(() => isTerminal(state.status));
      return { ...state };
    },
    { validator: (_req: CancelRequest) => rejectWhenTerminal(state) },
  );
  setHandler(
    retryUpdate,
    async (req): Promise<JobState> => {
      retryRequest ??= req;
      await condition(() => !state.awaitingRetry && state.status !== 'failed');
      return { ...state };
    },
    { validator: (_req: RetryRequest) => rejectUnlessRetryable(state, input) },
  );

  const setStatus = (status: JobStatus) => {
    state.status = status;
    upsertSearchAttributes([{ key: searchAttributes.jobStatus, value: status }]);
  };
  // Webhooks must never fail the job: the activity retries like bookkeeping, and a failure is dropped.
  const publish = async (event: JobEventName, data: Record<string, unknown>) => {
    try {
      await bookkeeping.publishJobEvent({ organizationId: input.organizationId, jobId, event, data });
    } catch (err) {
      if (isCancellation(err)) throw err;
    }
  };

  /** Runs the steps without a result; returns the error of a step that failed for good. */
  const runSteps = async (): Promise<JobError | undefined> => {
    for (let i = 0; i < steps.length; i++) {
      if (results[i]) continue;
      if (cancelRequest) throw new CancelledFailure('job cancelled');
      state.currentStep = i;
      if (state.status !== 'processing') {
        await bookkeeping.markJobProcessing(jobId);
        setStatus('processing');
      }
      await bookkeeping.startStep({ jobId, stepIndex: i });
      const source = inputOf(input, results, i);
      let result: StepResult;
      try {
        stepScope = new CancellationScope();
        result = await stepScope.run(() => runStep(steps[i]!, { ...source, jobId, organizationId: input.organizationId, stepIndex: i, totalSteps: steps.length, providerKeys: input.providerKeys }));
      } catch (err) {
        if (isCancellation(err)) throw err;
        const error = describeFailure(err);
        await bookkeeping.recordStepResult({ jobId, stepIndex: i, inputSizeBytes: source.inputSizeBytes, error });
        return error;
      } finally {
        stepScope = undefined;
      }
      results[i] = result;
      await bookkeeping.recordStepResult({ jobId, stepIndex: i, inputSizeBytes: source.inputSizeBytes, result });
      if (i < steps.length - 1) {
        await publish('job.progress', { status: 'processing', completed_steps: i + 1, total_steps: steps.length, progress: (i + 1) / steps.length });
      }
    }
    return undefined;
  };

  try {
    if (input.retriedBy) {
      state.retryCount = await bookkeeping.beginRetry({ jobId, by: input.retriedBy });
    }
    for (;;) {
      const error = await runSteps();
      if (!error) {
        await bookkeeping.completeJob(jobId);
        setStatus('completed');
        await publish('job.completed', { status: 'completed', total_steps: steps.length });
        return { status: 'completed' };
      }
      // Set before the job shows `failed`, so a retry requested as soon as it does is heeded.
      state.awaitingRetry = true;
      state.error = error;
      await bookkeeping.failJob(jobId, error);
      setStatus('failed');
      await publish('job.failed', { status: 'failed', error, failed_step: state.currentStep });
      const retried =
        state.retryCount < input.retry.maxRetries && (await condition(() => retryRequest !== undefined, input.retry.windowMs));
      state.awaitingRetry = false;
      if (!retried) throw ApplicationFailure.nonRetryable(error.message, error.code);
      const by = retryRequest!.by;
      retryRequest = undefined;
      state.retryCount = await bookkeeping.beginRetry({ jobId, by });
      state.error = undefined;
      setStatus('queued');
    }
  } catch (err) {
    // A failed job stays failed, whatever happens to its workflow while it waits for a retry.
    if (!isCancellation(err) || state.status === 'failed') throw err;
    const request = cancelRequest ?? { by: 'temporal', reason: 'workflow cancelled in Temporal' };
    await CancellationScope.nonCancellable(async () => {
      await bookkeeping.cancelJob({ jobId, ...request });
      setStatus('cancelled');
      await publish('job.cancelled', { status: 'cancelled', cancelled_by: request.by, reason: request.reason ?? null });
    });
    // A workflow cancellation ends the run as cancelled in Temporal too; a signal ends it normally.
    if (!cancelRequest) throw err;
    return { status: 'cancelled' };
  }
}

function runStep(
  step: PipelineStep,
  args: { jobId: string; organizationId: string; inputKey: string; inputMimeType: string; stepIndex: number; totalSteps: number; providerKeys?: ProviderKeys },
): Promise<StepResult> {
  const { policy } = step;
  const { runAction } = proxyActivities<Activities>({
    startToCloseTimeout: policy.startToCloseMs,
    heartbeatTimeout: policy.heartbeatMs,
    // The activity stops ffmpeg/sharp and removes partial output before the job is recorded cancelled.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      maximumAttempts: policy.retry.maximumAttempts,
      initialInterval: policy.retry.initialIntervalMs,
      backoffCoefficient: policy.retry.backoffCoefficient,
      maximumInterval: policy.retry.maximumIntervalMs,
      nonRetryableErrorTypes: policy.nonRetryableErrors,
    },
  });
  return runAction({
    jobId: args.jobId,
    organizationId: args.organizationId,
    actionId: step.actionId,
    inputKey: args.inputKey,
    inputMimeType: args.inputMimeType,
    parameters: step.parameters,
    stepIndex: args.stepIndex,
    totalSteps: args.totalSteps,
    ...(args.providerKeys ? { providerKeys: args.providerKeys } : {}),
  });
}

/** Refuses a cancel the job cannot take (the update is then rejected: nothing reaches history). */
export function rejectWhenTerminal(state: JobState): void {
  if (isTerminal(state.status)) throw ApplicationFailure.nonRetryable(`Job is already ${state.status}`, 'JOB_TERMINAL');
}

/** Refuses a retry of a job that does not wait for one or has none left. */
export function rejectUnlessRetryable(state: JobState, input: ProcessJobInput): void {
  if (!state.awaitingRetry) throw ApplicationFailure.nonRetryable(`Only a failed job can be retried; this one is ${state.status}`, 'JOB_NOT_FAILED');
  if (state.retryCount >= input.retry.maxRetries) throw ApplicationFailure.nonRetryable('The job has no retries left', 'NO_RETRIES_LEFT');
}
