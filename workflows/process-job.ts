import { patched } from '@temporalio/workflow';
import { processJobV1 } from './process-job-v1.js';
import { processJobV2 } from './process-job-v2.js';
import type { ProcessJobInput } from './types.js';
import type { JobStatus } from './job-status.js';

export { cancelSignal, cancelUpdate, getStateQuery, retrySignal, retryUpdate } from './job-messages.js';

/**
 * The job workflow (`job-<job id>`). Runs started before the job engine's second version replay on
 * the first (they carry no `job-engine-v2` marker); every new run records the marker and runs the
 * second. tests/workflows/replay.test.ts replays histories captured from the first version.
 * Remove the first version (and this check, via deprecatePatch) once no run of it is open or
 * retained.
 */
export async function processJob(input: ProcessJobInput): Promise<{ status: JobStatus }> {
  if (patched('job-engine-v2')) return processJobV2(input);
  return processJobV1(input);
}
