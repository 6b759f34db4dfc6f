import type { RetentionActivities } from '#activities/retention.js';
import { createWorkflowTestEnv, type WorkflowTestEnv } from '../tests/support/workflow-env.js';
import { retentionSweep } from './retention.js';

let t: WorkflowTestEnv;
beforeAll(async () => {
  t = await createWorkflowTestEnv();
});
afterAll(async () => {
  await t?.teardown();
});

function activities(batches: { removed: number; more: boolean }[], keysRemoved = 0, jobBatches: { removed: number; more: boolean }[] = [{ removed: 0, more: false }]) {
  const calls: number[] = [];
  const impl: Pick<RetentionActivities, 'sweepExpiredMedia' | 'sweepExpiredJobs' | 'sweepExpiredKeys'> = {
    async sweepExpiredJobs(batchSize) {
      calls.push(-batchSize);
      const next = jobBatches.shift();
      if (!next) throw new Error('swept past the last job batch');
      return next;
    },
    async sweepExpiredMedia(batchSize) {
      calls.push(batchSize);
      const next = batches.shift();
      if (!next) throw new Error('swept past the last batch');
      return next;
    },
    async sweepExpiredKeys() {
      return keysRemoved;
    },
  };
  return { impl, calls };
}

test('sweeps batches until none is left, then the expired keys', async () => {
  const { impl, calls } = activities([{ removed: 3, more: true }, { removed: 2, more: true }, { removed: 0, more: false }], 4);
  const result = await t.withWorker(impl, (taskQueue) =>
    t.env.client.workflow.execute(retentionSweep, { taskQueue, workflowId: `retention-${Date.now()}`, args: [{ batchSize: 50 }] }),
  );
  expect(result).toEqual({ mediaRemoved: 5, jobsRemoved: 0, keysRemoved: 4 });
  expect(calls).toEqual([50, 50, 50, -50]);
});

test('expired jobs are swept in batches after the media', async () => {
  const { impl, calls } = activities([{ removed: 1, more: false }], 0, [{ removed: 4, more: true }, { removed: 1, more: false }]);
  const result = await t.withWorker(impl, (taskQueue) =>
    t.env.client.workflow.execute(retentionSweep, { taskQueue, workflowId: `retention-jobs-${Date.now()}`, args: [{ batchSize: 4 }] }),
  );
  expect(result).toEqual({ mediaRemoved: 1, jobsRemoved: 5, keysRemoved: 0 });
  expect(calls).toEqual([4, -4, -4]);
});

test('stops at maxBatches and leaves the rest to the next run', async () => {
  const { impl, calls } = activities(Array.from({ length: 10 }, () => ({ removed: 1, more: true })), 0, Array.from({ length: 10 }, () => ({ removed: 1, more: true })));
  const result = await t.withWorker(impl, (taskQueue) =>
    t.env.client.workflow.execute(retentionSweep, { taskQueue, workflowId: `retention-max-${Date.now()}`, args: [{ batchSize: 7, maxBatches: 2 }] }),
  );
  expect(result).toEqual({ mediaRemoved: 2, jobsRemoved: 2, keysRemoved: 0 });
  expect(calls).toEqual([7, 7, -7, -7]);
});
