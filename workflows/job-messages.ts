import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CancelRequest, JobState, RetryRequest } from './types.js';

// The job workflow's messages (every version of it handles all of them).
export const getStateQuery = defineQuery<JobState>('getState');
/**
 * Cancels the job and answers with its state once it is terminal: `cancelled`, or `completed` /
 * `failed` when the job got there first. Rejected (before it reaches history) when the job is
 * already terminal.
 */
export const cancelUpdate = defineUpdate<JobState, [CancelRequest]>('cancelJob');
/**
 * Resumes a failed job from its failed step; answers with its state once it is queued again.
 * Rejected unless the job waits for a retry and has retries left.
 */
export const retryUpdate = defineUpdate<JobState, [RetryRequest]>('retryJob');
/** The same as cancelUpdate without an answer (kept for callers of the first version). */
export const cancelSignal = defineSignal<[CancelRequest]>('cancel');
/** The same as retryUpdate without an answer (kept for callers of the first version; signal-with-start). */
export const retrySignal = defineSignal<[RetryRequest]>('retry');
