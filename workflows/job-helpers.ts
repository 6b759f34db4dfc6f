import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { jobErrorCode } from './job-errors.js';
import type { JobError, ProcessJobInput, StepResult } from './types.js';

/** A step's input: the last file result before it, else the job's input (a JSON result ends no chain). */
export function inputOf(input: ProcessJobInput, results: (StepResult | null)[], index: number) {
  for (let i = index - 1; i >= 0; i--) {
    const r = results[i];
    if (r?.type === 'file') return { inputKey: r.key, inputMimeType: r.mimeType, inputSizeBytes: r.sizeBytes as number | null };
  }
  return { inputKey: input.inputKey, inputMimeType: input.inputMimeType, inputSizeBytes: null as number | null };
}

/** The job's error for a step that failed for good, with a documented code (workflows/job-errors.ts). */
export function describeFailure(err: unknown): JobError {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    return { code: jobErrorCode(cause.type), message: cause.message };
  }
  if (cause instanceof Error && cause.name === 'TimeoutFailure') {
    return { code: 'TIMEOUT', message: 'the action did not finish in time' };
  }
  return { code: 'PROCESSING_ERROR', message: cause instanceof Error ? cause.message : String(cause) };
}
