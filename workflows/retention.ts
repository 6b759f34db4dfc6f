import { proxyActivities } from '@temporalio/workflow';
import type { RetentionActivities } from '../activities/retention.js';

export interface RetentionSweepInput {
  batchSize: number;
  /** Bounds one run's history; what is left is picked up by the next scheduled run. */
  maxBatches?: number;
}

const { sweepExpiredMedia, sweepExpiredKeys } = proxyActivities<RetentionActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 5 },
});

/** Started by the retention Schedule (see worker/retention-schedule.ts): deletes what has expired. */
export async function retentionSweep(input: RetentionSweepInput): Promise<{ mediaRemoved: number; keysRemoved: number }> {
  let mediaRemoved = 0;
  for (let i = 0; i < (input.maxBatches ?? 100); i++) {
    const batch = await sweepExpiredMedia(input.batchSize);
    mediaRemoved += batch.removed;
    if (!batch.more) break;
  }
  const keysRemoved = await sweepExpiredKeys();
  return { mediaRemoved, keysRemoved };
}
