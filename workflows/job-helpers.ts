import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { JobError, ProcessJobInput, StepResult } from './types.js';

/** A step's input: the last file result before it, else the job's input (a JSON result ends no chain). */
export function inputOf(input: ProcessJobInput, results: (StepResult | null)[], index: number) {
  for (let i = index - 1; i >= 0; i--) {
    const r = results[i];
    if (r?.type === 'file') return { inputKey: r.key, inputMimeType: r.mimeType, inputSizeBytes: r.sizeBytes as number | null };
  }
  return { inputKey: input.inputKey, inputMimeType: input.inputMimeType, inputSizeBytes: null as number | null };
}

// A provider that stayed unavailable through every retry is, for the client, the API's provider error.
const JOB_ERROR_CODES: Record<string, string> = { AI_PROVIDER_UNAVAILABLE: 'AI_PROVIDER_ERROR' };

/** The job's error for a step that failed for good. */
export function describeFailure(err: unknown): JobError {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    const type = cause.type ?? 'PROCESSING_ERROR';
    return { code: JOB_ERROR_CODES[type] ?? type, message: cause.message };
  }
  if (cause instanceof Error && cause.name === 'TimeoutFailure') {
    return { code: 'TIMEOUT', message: 'the action did not finish in time' };
  }
  return { code: 'PROCESSING_ERROR', message: cause instanceof Error ? cause.message : String(cause) };
}
