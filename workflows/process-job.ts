import {
  ActivityFailure,
  ApplicationFailure,
  defineQuery,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { JobState, ProcessJobInput, StepResult } from './types.js';

export const getStateQuery = defineQuery<JobState>('getState');

// Bookkeeping writes must land eventually, so they retry without limit; they are idempotent.
const bookkeeping = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** One job: run its action on the input file, then record the outcome. */
export async function processJob(input: ProcessJobInput): Promise<StepResult> {
  const state: JobState = { jobId: input.jobId, status: 'queued' };
  setHandler(getStateQuery, () => state);

  const { policy } = input;
  const { runAction } = proxyActivities<Activities>({
    startToCloseTimeout: policy.startToCloseMs,
    heartbeatTimeout: policy.heartbeatMs,
    retry: {
      maximumAttempts: policy.retry.maximumAttempts,
      initialInterval: policy.retry.initialIntervalMs,
      backoffCoefficient: policy.retry.backoffCoefficient,
      maximumInterval: policy.retry.maximumIntervalMs,
      nonRetryableErrorTypes: policy.nonRetryableErrors,
    },
  });

  await bookkeeping.markJobProcessing(input.jobId);
  state.status = 'processing';
  try {
    const result = await runAction({
      jobId: input.jobId,
      organizationId: input.organizationId,
      actionId: input.actionId,
      inputKey: input.inputKey,
      inputMimeType: input.inputMimeType,
      parameters: input.parameters,
    });
    await bookkeeping.completeJob(input.jobId, result);
    state.status = 'completed';
    return result;
  } catch (err) {
    const error = describeFailure(err);
    await bookkeeping.failJob(input.jobId, error);
    state.status = 'failed';
    state.error = error;
    throw ApplicationFailure.nonRetryable(error.message, error.code);
  }
}

function describeFailure(err: unknown): { code: string; message: string } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    return { code: cause.type ?? 'PROCESSING_ERROR', message: cause.message };
  }
  if (cause instanceof Error && cause.name === 'TimeoutFailure') {
    return { code: 'TIMEOUT', message: 'the action did not finish in time' };
  }
  return { code: 'PROCESSING_ERROR', message: cause instanceof Error ? cause.message : String(cause) };
}
