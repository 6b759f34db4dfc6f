import { ScheduleAlreadyRunning, type Client, type ScheduleOptionsStartWorkflowAction } from '@temporalio/client';
import type { Config } from '#lib/config.js';
import type { retentionSweep } from '#workflows/retention.js';

/**
 * Creates the retention Schedule, or brings an existing one up to date with the configuration:
 * every worker calls this at start-up, so the first one creates it and the others converge on it.
 * Overlapping runs are skipped.
 */
export async function ensureRetentionSchedule(client: Client, config: Pick<Config, 'retention' | 'temporal'>): Promise<void> {
  const { scheduleId, sweepIntervalSeconds, batchSize } = config.retention;
  const spec = { intervals: [{ every: sweepIntervalSeconds * 1000 }] };
  const action: ScheduleOptionsStartWorkflowAction<typeof retentionSweep> = {
    type: 'startWorkflow',
    workflowType: 'retentionSweep',
    taskQueue: config.temporal.taskQueue,
    args: [{ batchSize }],
    workflowExecutionTimeout: '1 hour',
  };
  try {
    await client.schedule.create({ scheduleId, spec, action, policies: { overlap: 'SKIP', catchupWindow: '1 hour' } });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec, action }));
  }
}
