import {
  ActivityCancellationType,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  condition,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '#activities/index.js';
import type { JobStepOutcome, RunJobStepInput } from '#activities/run-step.js';
import { isTerminal, type JobStatus } from './job-status.js';
import { describeFailure, inputOf } from './job-helpers.js';
import { cancelSignal, cancelUpdate, getStateQuery, retrySignal, retryUpdate } from './job-messages.js';
import { rejectUnlessRetryable, rejectWhenTerminal } from './process-job-v1.js';
import { searchAttributes } from './search-attributes.js';
import { DEFAULT_INFRA_RETRY, INFRA_RETRY_PATCH, withStepAttempts } from './step-attempts.js';
import { runsInPieces, transcribeInPieces } from './transcribe-in-pieces.js';
import type { CancelRequest, JobError, JobEventName, JobState, PipelineStep, ProcessJobInput, RetryRequest, StepResult } from './types.js';

/*
 * Where the bookkeeping went. The first version ran six activities one after another for a
 * one-step job (mark processing, start step, run, record result, complete, publish), each a
 * task-queue round trip and a workflow task. Now:
 *
 * - A step's own bookkeeping is folded into the step's activity (activities/run-step.ts): it starts
 *   the step in the job store, runs the action and records the output, its usage and, for the last
 *   step, the job's completion, in one transaction. Folding rather than local activities because
 *   the step's start and its result belong with the work: the activity that produced an output is
 *   the one that records it, a retried attempt finds the output an earlier one recorded (a worker
 *   killed after the commit) instead of running again, and a job the store holds as terminal
 *   never starts. A local activity before and after would still cost a workflow task each.
 * - What happens between steps or after them (a step's final failure, cancel, retry, webhook
 *   events) runs as local activities in the workflow task that decided it: no task-queue round trip.
 * - The step activity is scheduled with eager dispatch (the worker that completes the workflow
 *   task receives the activity in the reply, when the server enables it).
 *
 * - The step's activity also says which job events the organization's webhook endpoints subscribe
 *   to; an event nobody hears is not published (SKIP_UNHEARD_EVENTS_PATCH): no local activity
 *   between the steps of a pipeline, nor before a job without webhooks completes.
 *
 * A one-step job is then: workflow task, step activity, workflow task (publish as a local
 * activity when an endpoint listens, complete).
 */

/** Runs from here on skip publishing an event no endpoint subscribes to (the step's activity says which do). */
export const SKIP_UNHEARD_EVENTS_PATCH = 'skip-unheard-job-events';

// Bookkeeping must land eventually: local activities retry without limit; each is idempotent.
const store = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * One job, second version: steps run in order, each one activity (with its action's timeouts and
 * retry policy) that also does the step's bookkeeping; a step's file result is the next step's
 * input, a JSON result passes the file on. Cancel and retry are Updates answering with the job's
 * new state; the signals of the first version still work.
 */
export async function processJobV2(input: ProcessJobInput): Promise<{ status: JobStatus }> {
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

  const cancel = (req: CancelRequest) => {
    if (isTerminal(state.status)) return;
    cancelRequest ??= req;
    stepScope?.cancel();
  };
  setHandler(getStateQuery, () => state);
  setHandler(cancelSignal, cancel);
  setHandler(retrySignal, (req) => {
    if (state.awaitingRetry) retryRequest ??= req;
  });
  setHandler(
    cancelUpdate,
    async (req): Promise<JobState> => {
      cancel(req);
      await condition(() => isTerminal(state.status) && !state.awaitingRetry);
      return { ...state };
    },
    { validator: (_req: CancelRequest) => rejectWhenTerminal(state) },
  );
  setHandler(
    retryUpdate,
    async (req): Promise<JobState> => {
      retryRequest ??= req;
      await condition(() => !state.awaitingRetry);
      return { ...state };
    },
    { validator: (_req: RetryRequest) => rejectUnlessRetryable(state, input) },
  );

  const setStatus = (status: JobStatus) => {
    state.status = status;
    upsertSearchAttributes([{ key: searchAttributes.jobStatus, value: status }]);
  };
  // The events the organization's endpoints listened to when the last step ran (absent: unknown).
  let subscribed: JobEventName[] | undefined;
  // Webhooks must never fail the job: a publish that fails for good is dropped.
  const publish = async (event: JobEventName, data: Record<string, unknown>) => {
    // Nobody listens: the publish would find no endpoint (a local activity saved between steps).
    if (subscribed && !subscribed.includes(event) && patched(SKIP_UNHEARD_EVENTS_PATCH)) return;
    try {
      await store.publishJobEvent({ organizationId: input.organizationId, jobId, event, data });
    } catch (err) {
      if (isCancellation(err)) throw err;
    }
  };
  // Update handlers answer before the run closes.
  const close = async <T>(value: T): Promise<T> => {
    await condition(allHandlersFinished);
    return value;
  };

  type Ran = { error: JobError; stepIndex: number; inputSizeBytes: number | null } | { terminal: JobStatus } | undefined;
  /** Runs the steps without a result; returns a step's final failure, or the status the store already held. */
  const runSteps = async (): Promise<Ran> => {
    for (let i = 0; i < steps.length; i++) {
      if (results[i]) continue;
      if (cancelRequest) throw new CancelledFailure('job cancelled');
      state.currentStep = i;
      if (state.status !== 'processing') setStatus('processing');
      const source = inputOf(input, results, i);
      let outcome: JobStepOutcome;
      try {
        stepScope = new CancellationScope();
        const step = steps[i]!;
        const args: RunJobStepInput = {
          jobId,
          organizationId: input.organizationId,
          actionId: step.actionId,
          parameters: step.parameters,
          inputKey: source.inputKey,
          inputMimeType: source.inputMimeType,
          inputSizeBytes: source.inputSizeBytes,
          stepIndex: i,
          totalSteps: steps.length,
          completesJob: i === steps.length - 1,
          ...(input.providerKeys ? { providerKeys: input.providerKeys } : {}),
        };
        outcome = await stepScope.run(() => runStepOnce(step, args, input));
      } catch (err) {
        if (isCancellation(err)) throw err;
        return { error: describeFailure(err), stepIndex: i, inputSizeBytes: source.inputSizeBytes };
      } finally {
        stepScope = undefined;
      }
      if ('terminal' in outcome) return { terminal: outcome.terminal };
      results[i] = outcome.result;
      subscribed = outcome.subscribed;
      if (i < steps.length - 1) {
        await publish('job.progress', { status: 'processing', completed_steps: i + 1, total_steps: steps.length, progress: (i + 1) / steps.length });
      }
    }
    return undefined;
  };

  try {
    if (input.retriedBy) {
      // A run started by a retry after the window: the API put the job back in the queue already.
      state.retryCount = await store.beginRetry({ jobId, by: input.retriedBy });
    }
    for (;;) {
      const ran = await runSteps();
      if (ran && 'terminal' in ran) {
        // The store holds the job as terminal (cancelled or reconciled elsewhere): nothing more runs.
        setStatus(ran.terminal);
        return close({ status: ran.terminal });
      }
      if (!ran) {
        setStatus('completed');
        await publish('job.completed', { status: 'completed', total_steps: steps.length });
        return close({ status: 'completed' as const });
      }
      // Set before the job shows `failed`, so a retry requested as soon as it does is heeded.
      state.awaitingRetry = true;
      state.error = ran.error;
      await store.failJobStep({ jobId, stepIndex: ran.stepIndex, inputSizeBytes: ran.inputSizeBytes, error: ran.error });
      setStatus('failed');
      await publish('job.failed', { status: 'failed', error: ran.error, failed_step: state.currentStep });
      const retried = state.retryCount < input.retry.maxRetries && (await condition(() => retryRequest !== undefined, input.retry.windowMs));
      if (!retried) {
        state.awaitingRetry = false;
        await condition(allHandlersFinished);
        throw ApplicationFailure.nonRetryable(ran.error.message, ran.error.code);
      }
      const by = retryRequest!.by;
      retryRequest = undefined;
      state.retryCount = await store.beginRetry({ jobId, by });
      state.error = undefined;
      setStatus('queued');
      state.awaitingRetry = false;
    }
  } catch (err) {
    // A failed job stays failed, whatever happens to its workflow while it waits for a retry.
    if (!isCancellation(err) || state.status === 'failed') throw err;
    const request = cancelRequest ?? { by: 'temporal', reason: 'workflow cancelled in Temporal' };
    await CancellationScope.nonCancellable(async () => {
      await store.cancelJob({ jobId, ...request });
      setStatus('cancelled');
      await publish('job.cancelled', { status: 'cancelled', cancelled_by: request.by, reason: request.reason ?? null });
      await condition(allHandlersFinished);
    });
    // A workflow cancellation ends the run as cancelled in Temporal too; a cancel request ends it normally.
    if (!cancelRequest) throw err;
    return { status: 'cancelled' };
  }
}

/**
 * The step's activity (or its pieces). Runs since INFRA_RETRY_PATCH count the action's attempts in
 * the workflow, apart from outages and worker deaths (workflows/step-attempts.ts); earlier runs
 * leave them all to Temporal's retry policy.
 */
function runStepOnce(step: PipelineStep, args: RunJobStepInput, input: ProcessJobInput): Promise<JobStepOutcome> {
  const whole = (attempts: number | undefined, extra: Partial<RunJobStepInput> = {}) => () => runStep(step, { ...args, ...extra }, attempts);
  if (!patched(INFRA_RETRY_PATCH)) return runsInPieces(step) ? transcribeInPieces(step, args, whole(undefined)) : runStep(step, args);
  const infra = input.infraRetry ?? DEFAULT_INFRA_RETRY;
  // Pieces keep their own attempts; only an outage that outlasted them runs the step again.
  if (runsInPieces(step)) return withStepAttempts({ ...step.policy, retry: { ...step.policy.retry, maximumAttempts: 1 } }, infra, () => transcribeInPieces(step, args, whole(undefined)));
  return withStepAttempts(step.policy, infra, (attempt) => whole(1, { attempt })());
}

function runStep(step: PipelineStep, args: RunJobStepInput, maximumAttempts?: number): Promise<JobStepOutcome> {
  const { policy } = step;
  const { runJobStep } = proxyActivities<Activities>({
    startToCloseTimeout: policy.startToCloseMs,
    heartbeatTimeout: policy.heartbeatMs,
    // The activity stops ffmpeg/sharp and removes partial output before the job is recorded cancelled.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    allowEagerDispatch: true,
    retry: {
      maximumAttempts: maximumAttempts ?? policy.retry.maximumAttempts,
      initialInterval: policy.retry.initialIntervalMs,
      backoffCoefficient: policy.retry.backoffCoefficient,
      maximumInterval: policy.retry.maximumIntervalMs,
      nonRetryableErrorTypes: policy.nonRetryableErrors,
    },
  });
  return runJobStep(args);
}
