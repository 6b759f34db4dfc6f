import { patched, proxyActivities } from '@temporalio/workflow';
import type { RetentionActivities } from '#activities/retention.js';

export interface RetentionSweepInput {
  batchSize: number;
  /** Bounds one run's history; what is left is picked up by the next scheduled run. */
  maxBatches?: number;
}

const { sweepExpiredMedia, sweepExpiredJobs, sweepExpiredKeys } = proxyActivities<RetentionActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 5 },
});

/** Started by the retention Schedule (see worker/retention-schedule.ts): deletes what has expired. */
export async function retentionSweep(input: RetentionSweepInput): Promise<{ mediaRemoved: number; jobsRemoved?: number; keysRemoved: number }> {
  let mediaRemoved = 0;
  for (let i = 0; i < (input.maxBatches ?? 100); i++) {
    const batch = await sweepExpiredMedia(input.batchSize);
    mediaRemoved += batch.removed;
    if (!batch.more) break;
  }
  // Jobs (with their results, transcripts and events) expire too; runs started before keep their steps.
  let jobsRemoved: number | undefined;
  if (patched('retention-sweeps-jobs')) {
    jobsRemoved = 0;
    for (let i = 0; i < (input.maxBatches ?? 100); i++) {
      const batch = await sweepExpiredJobs(input.batchSize);
      jobsRemoved += batch.removed;
      if (!batch.more) break;
    }
  }
  const keysRemoved = await sweepExpiredKeys();
  return { mediaRemoved, ...(jobsRemoved !== undefined ? { jobsRemoved } : {}), keysRemoved };
}
