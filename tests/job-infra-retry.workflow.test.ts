// Outages and worker deaths are retried apart from an action's attempts (workflows/step-attempts.ts):
// the job workflow against mock step activities that fail as storage, a lost worker or the action would.
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { JobStepOutcome, RunJobStepInput } from '#activities/run-step.js';
import { INFRASTRUCTURE } from '#workflows/job-errors.js';
import type { PipelineStep, ProcessJobInput } from '#workflows/types.js';
import { createWorkflowTestEnv, type WorkflowTestEnv } from './support/workflow-env.js';

let t: WorkflowTestEnv;
beforeAll(async () => {
  t = await createWorkflowTestEnv();
}, 120_000);
afterAll(async () => {
  await t?.teardown();
});

const step = (actionId: string, maximumAttempts = 2, heartbeatMs = 5_000): PipelineStep => ({
  actionId,
  parameters: {},
  policy: { startToCloseMs: 60_000, heartbeatMs, retry: { maximumAttempts, initialIntervalMs: 50, backoffCoefficient: 2, maximumIntervalMs: 200 }, nonRetryableErrors: ['INVALID_INPUT'] },
});
const jobInput = (steps: PipelineStep[], giveUpAfterMs = 60_000): ProcessJobInput => ({
  jobId: randomUUID(),
  organizationId: randomUUID(),
  inputKey: 'originals/input.jpg',
  inputMimeType: 'image/jpeg',
  steps,
  retry: { windowMs: 500, maxRetries: 0, count: 0 },
  infraRetry: { initialIntervalMs: 20, maximumIntervalMs: 100, giveUpAfterMs },
});
const outage = () => ApplicationFailure.create({ type: INFRASTRUCTURE, message: 'connect ECONNREFUSED 127.0.0.1:9000 (ECONNREFUSED)' });
const done: JobStepOutcome = { result: { type: 'json', data: { ok: true } } };

async function run(input: ProcessJobInput, runJobStep: (i: RunJobStepInput) => Promise<JobStepOutcome>) {
  const failed: unknown[] = [];
  const activities = {
    runJobStep,
    failJobStep: async (args: unknown) => void failed.push(args),
    publishJobEvent: async () => undefined,
    cancelJob: async () => undefined,
    beginRetry: async () => 1,
  };
  const outcome = await t.withWorker(
    activities,
    async (taskQueue) => {
      const handle = await t.env.client.workflow.start('processJob', { taskQueue, workflowId: `job-${input.jobId}`, args: [input] });
      return handle.result().catch((e: unknown) => e);
    },
    { maxHeartbeatThrottleInterval: '100 ms' },
  );
  return { outcome, failed };
}

test('an outage longer than the action has attempts for only delays the step; it keeps its attempts', async () => {
  const seen: { attempt?: number; temporalAttempt: number }[] = [];
  let calls = 0;
  const { outcome } = await run(jobInput([step('resize', 2)]), async (i) => {
    seen.push({ attempt: i.attempt, temporalAttempt: Context.current().info.attempt });
    if (++calls <= 6) throw outage();
    // Then one failure of the action itself: it still has its second attempt.
    if (calls === 7) throw ApplicationFailure.create({ type: 'PROCESSING_ERROR', message: 'flaky' });
    return done;
  });
  expect(outcome).toEqual({ status: 'completed' });
  expect(calls).toBe(8);
  // Six outages, all on the action's first attempt; its own failure moved it to the second.
  expect(seen.map((s) => s.attempt)).toEqual([1, 1, 1, 1, 1, 1, 1, 2]);
  expect(seen.every((s) => s.temporalAttempt === 1)).toBe(true);
}, 60_000);

test("a worker that stops heartbeating mid-step costs none of the action's attempts", async () => {
  let calls = 0;
  const { outcome } = await run(jobInput([step('convert', 1, 1_000)]), async () => {
    // The first two attempts hang without heartbeats, as on a worker killed mid-step.
    if (++calls <= 2) {
      await new Promise((r) => setTimeout(r, 3_000));
      return done;
    }
    return done;
  });
  expect(outcome).toEqual({ status: 'completed' });
  expect(calls).toBe(3);
}, 60_000);

test("the action's own failures still fail the job after its attempts, bad input at once", async () => {
  let calls = 0;
  const failing = await run(jobInput([step('crop', 3)]), async () => {
    calls++;
    throw ApplicationFailure.create({ type: 'PROCESSING_ERROR', message: 'sharp crashed' });
  });
  expect(failing.outcome).toBeInstanceOf(WorkflowFailedError);
  expect(calls).toBe(3);
  expect(failing.failed).toEqual([expect.objectContaining({ error: { code: 'PROCESSING_ERROR', message: 'sharp crashed' } })]);

  let bad = 0;
  const invalid = await run(jobInput([step('crop', 3)]), async () => {
    bad++;
    throw ApplicationFailure.create({ type: 'INVALID_INPUT', message: 'not an image', nonRetryable: true });
  });
  expect(invalid.failed).toEqual([expect.objectContaining({ error: { code: 'INVALID_INPUT', message: 'not an image' } })]);
  expect(bad).toBe(1);
}, 60_000);

test('an outage that outlasts INFRA_RETRY_FOR fails the job with INFRASTRUCTURE_UNAVAILABLE', async () => {
  const { outcome, failed } = await run(jobInput([step('resize', 5)], 1_000), async () => {
    throw outage();
  });
  expect(outcome).toBeInstanceOf(WorkflowFailedError);
  expect(failed).toEqual([expect.objectContaining({ error: expect.objectContaining({ code: 'INFRASTRUCTURE_UNAVAILABLE' }) })]);
}, 60_000);

test('a worker shut down mid-step (its grace over) hands the step over: another worker runs it, the job completes', async () => {
  const taskQueue = `wf-test-${randomUUID()}`;
  const input = jobInput([step('convert', 1)]);
  let runs = 0;
  let running!: () => void;
  const started = new Promise<void>((r) => (running = r));
  const activities = (slow: boolean) => ({
    runJobStep: async (): Promise<JobStepOutcome> => {
      runs++;
      if (slow) {
        running();
        const ctx = Context.current();
        for (;;) {
          ctx.heartbeat();
          await ctx.sleep(50);
        }
      }
      return done;
    },
    failJobStep: async () => undefined,
    publishJobEvent: async () => undefined,
    cancelJob: async () => undefined,
    beginRetry: async () => 1,
  });
  const worker = (slow: boolean) =>
    Worker.create({ connection: t.env.nativeConnection, taskQueue, workflowBundle: t.workflowBundle, activities: activities(slow), shutdownGraceTime: '200 ms', maxHeartbeatThrottleInterval: '100 ms' });
  const handle = await t.env.client.workflow.start('processJob', { taskQueue, workflowId: `job-${input.jobId}`, args: [input] });
  const first = await worker(true);
  await first.runUntil(started);
  const second = await worker(false);
  const outcome = await second.runUntil(handle.result().catch((e: unknown) => e));
  expect(outcome).toEqual({ status: 'completed' });
  expect(runs).toBe(2);
}, 60_000);
