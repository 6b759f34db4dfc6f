// The job workflow alone (workflow tier): its activities are mocks (no Postgres, MinIO or action
// runs), Temporal is a dev server of the file's own. Replays the histories captured from the first
// workflow version (tests/fixtures/histories) and histories of the current one; checks the
// pipeline's chaining, cancel mid-step, the retry window and the round trips a job costs.
//
// Time skipping would need Temporal's Java test server, which cannot be installed on these
// machines (only npm, Debian and the Go module proxy are reachable): the retry window is short
// instead, and waited out.
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import proto from '@temporalio/proto';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { bundleOptions } from '#worker/bundle.js';
import type { JobStepOutcome, RunJobStepInput } from '#activities/run-step.js';
import { cancelUpdate, getStateQuery, retryUpdate } from '#workflows/process-job.js';
import type { JobState, PipelineStep, ProcessJobInput, StepResult } from '#workflows/types.js';
import { createWorkflowTestEnv, type WorkflowTestEnv } from './support/workflow-env.js';
import { quiet } from './support/worker-process.js';

const History = proto.temporal.api.history.v1.History;
const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'histories');
const WINDOW_MS = 2_000;

let t: WorkflowTestEnv;
beforeAll(async () => {
  t = await createWorkflowTestEnv();
}, 120_000);
afterAll(async () => {
  await t?.teardown();
});

const replayName = (file: string) => `replay-${file}`;
async function replay(histories: { name: string; history: unknown }[], workflowBundle = t.workflowBundle) {
  const results = [];
  for await (const r of Worker.runReplayHistories({ workflowBundle, replayName: 'job-workflow' }, histories.map((h) => ({ workflowId: h.name, history: h.history as never })))) {
    results.push({ workflowId: r.workflowId, error: r.error ? String(r.error) : undefined });
  }
  return results;
}

describe('replay', () => {
  const captured = async () => {
    const files = (await readdir(FIXTURES)).filter((f) => f.endsWith('.json')).sort();
    // transcribe-in-pieces.json: the pieces as the workflow ran them before aud_translate ran in pieces too.
    expect(files).toEqual(['cancelled.json', 'failed-retried.json', 'failed-window-over.json', 'one-step.json', 'pipeline.json', 'retried-new-run.json', 'transcribe-in-pieces.json']);
    const histories = await Promise.all(files.map(async (f) => ({ name: replayName(f), history: History.fromObject(JSON.parse(await readFile(path.join(FIXTURES, f), 'utf8'))) })));
    return { histories, replayed: files.map((f) => ({ workflowId: replayName(f), error: undefined })) };
  };

  test('the histories captured from earlier workflow versions replay on the current code', async () => {
    const { histories, replayed } = await captured();
    expect(await replay(histories)).toEqual(replayed);
  }, 60_000);

  test('they replay on the traced bundle too (the one a worker exporting spans runs; its interceptors add no commands)', async () => {
    const { histories, replayed } = await captured();
    const traced = await bundleWorkflowCode({ ...bundleOptions({ traced: true }), logger: quiet });
    expect(traced.code).toContain('OpenTelemetryInboundInterceptor');
    expect(t.workflowBundle.code).not.toContain('OpenTelemetryInboundInterceptor');
    expect(await replay(histories, traced)).toEqual(replayed);
  }, 120_000);

  test('a history whose commands the code no longer issues is a determinism failure (the check can fail)', async () => {
    const json = JSON.parse(await readFile(path.join(FIXTURES, 'one-step.json'), 'utf8'));
    // Pretend the first version had scheduled another activity first.
    const scheduled = json.events.find((e: any) => e.activityTaskScheduledEventAttributes);
    scheduled.activityTaskScheduledEventAttributes.activityType.name = 'somethingElse';
    const [result] = await replay([{ name: 'tampered', history: History.fromObject(json) }]);
    expect(result!.error).toMatch(/Nondeterminism|nondeterminism|DeterminismViolation/);
  }, 60_000);
});

// ---- the current version, against mock activities ----

const policy = (over: Partial<PipelineStep['policy']> = {}): PipelineStep['policy'] => ({
  startToCloseMs: 60_000,
  heartbeatMs: 5_000,
  retry: { maximumAttempts: 2, initialIntervalMs: 100, backoffCoefficient: 2, maximumIntervalMs: 1_000 },
  nonRetryableErrors: ['INVALID_INPUT'],
  ...over,
});
const step = (actionId: string): PipelineStep => ({ actionId, parameters: {}, policy: policy() });
const fileResult = (key: string): StepResult => ({
  type: 'file', key, mimeType: 'image/webp', extension: 'webp', sizeBytes: 10, checksumMd5: 'md5', checksumSha256: 'sha',
});

interface Calls {
  steps: RunJobStepInput[];
  store: { name: string; args: unknown }[];
  cancelledSteps: number;
}

/** Mock activities: each action id says what its step does. */
function mockActivities(calls: Calls, behaviour: Record<string, (input: RunJobStepInput, attempt: number) => Promise<JobStepOutcome>>) {
  const record = (name: string) => async (args: unknown) => {
    calls.store.push({ name, args });
    if (name === 'beginRetry') return calls.store.filter((c) => c.name === 'beginRetry').length;
    return undefined;
  };
  return {
    async runJobStep(input: RunJobStepInput): Promise<JobStepOutcome> {
      calls.steps.push(input);
      return behaviour[input.actionId]!(input, Context.current().info.attempt);
    },
    failJobStep: record('failJobStep'),
    cancelJob: record('cancelJob'),
    beginRetry: record('beginRetry'),
    publishJobEvent: record('publishJobEvent'),
  };
}

function withWorker<T>(calls: Calls, behaviour: Parameters<typeof mockActivities>[1], fn: (taskQueue: string) => Promise<T>): Promise<T> {
  return t.withWorker(mockActivities(calls, behaviour), fn, {
    maxHeartbeatThrottleInterval: '100 ms',
  });
}

const jobInput = (steps: PipelineStep[], over: Partial<ProcessJobInput> = {}): ProcessJobInput => ({
  jobId: randomUUID(),
  organizationId: randomUUID(),
  inputKey: 'originals/input.jpg',
  inputMimeType: 'image/jpeg',
  steps,
  retry: { windowMs: WINDOW_MS, maxRetries: 3, count: 0 },
  ...over,
});
const start = (taskQueue: string, input: ProcessJobInput) =>
  t.env.client.workflow.start('processJob', { taskQueue, workflowId: `job-${input.jobId}`, args: [input] });

describe('the job workflow', () => {
  test('a one-step job is one activity: its bookkeeping runs in it, the rest as local activities', async () => {
    const calls: Calls = { steps: [], store: [], cancelledSteps: 0 };
    const input = jobInput([step('resize')]);
    const history = await withWorker(calls, { resize: async () => ({ result: fileResult('results/out.webp') }) }, async (tq) => {
      const handle = await start(tq, input);
      expect(await handle.result()).toEqual({ status: 'completed' });
      return handle.fetchHistory();
    });
    expect(calls.steps).toEqual([expect.objectContaining({ stepIndex: 0, totalSteps: 1, completesJob: true, inputKey: 'originals/input.jpg', inputSizeBytes: null })]);
    expect(calls.store).toEqual([{ name: 'publishJobEvent', args: expect.objectContaining({ event: 'job.completed' }) }]);
    const events = history.events ?? [];
    const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name);
    expect(scheduled).toEqual(['runJobStep']);
    // Workflow tasks: the one that schedules the step and the one that completes the job.
    expect(events.filter((e) => e.workflowTaskCompletedEventAttributes)).toHaveLength(2);
    // Its own history replays.
    expect(await replay([{ name: 'v2-one-step', history }])).toEqual([{ workflowId: 'v2-one-step', error: undefined }]);
  }, 60_000);

  test("a pipeline's JSON step passes the file on: the next step gets the last file result", async () => {
    const calls: Calls = { steps: [], store: [], cancelledSteps: 0 };
    const input = jobInput([step('resize'), step('metadata'), step('convert')]);
    await withWorker(
      calls,
      {
        resize: async () => ({ result: fileResult('steps/0.webp') }),
        metadata: async () => ({ result: { type: 'json', data: { width: 320 } } }),
        convert: async () => ({ result: fileResult('results/out.png') }),
      },
      async (tq) => expect(await (await start(tq, input)).result()).toEqual({ status: 'completed' }),
    );
    expect(calls.steps.map((s) => [s.actionId, s.inputKey, s.inputSizeBytes, s.completesJob])).toEqual([
      ['resize', 'originals/input.jpg', null, false],
      ['metadata', 'steps/0.webp', 10, false],
      ['convert', 'steps/0.webp', 10, true],
    ]);
    expect(calls.store.map((c) => (c.args as { event: string }).event)).toEqual(['job.progress', 'job.progress', 'job.completed']);
  }, 60_000);

  test('an event no webhook endpoint subscribes to is not published (the step says which are); the run replays', async () => {
    for (const [subscribed, expected] of [
      [[], []],
      [['job.completed'], ['job.completed']],
    ] as const) {
      const calls: Calls = { steps: [], store: [], cancelledSteps: 0 };
      const input = jobInput([step('resize'), step('metadata'), step('convert')]);
      const history = await withWorker(
        calls,
        {
          resize: async () => ({ result: fileResult('steps/0.webp'), subscribed: [...subscribed] }),
          metadata: async () => ({ result: { type: 'json', data: { width: 320 } }, subscribed: [...subscribed] }),
          convert: async () => ({ result: fileResult('results/out.png'), subscribed: [...subscribed] }),
        },
        async (tq) => {
          const handle = await start(tq, input);
          expect(await handle.result()).toEqual({ status: 'completed' });
          return handle.fetchHistory();
        },
      );
      expect(calls.store.map((c) => (c.args as { event: string }).event)).toEqual(expected);
      expect(await replay([{ name: `unheard-${expected.length}`, history }])).toEqual([{ workflowId: `unheard-${expected.length}`, error: undefined }]);
    }
  }, 90_000);

  test('cancel mid-step: the update answers cancelled once the step has stopped and the job is recorded', async () => {
    const calls: Calls = { steps: [], store: [], cancelledSteps: 0 };
    let running!: () => void;
    const started = new Promise<void>((r) => (running = r));
    const input = jobInput([step('convert'), step('never')]);
    await withWorker(
      calls,
      {
        convert: async () => {
          running();
          const ctx = Context.current();
          try {
            for (;;) {
              ctx.heartbeat();
              await ctx.sleep(50);
            }
          } catch (err) {
            calls.cancelledSteps++;
            throw err;
          }
        },
        never: async () => ({ result: fileResult('never') }),
      },
      async (tq) => {
        const handle = await start(tq, input);
        await started;
        const t0 = Date.now();
        const state = await handle.executeUpdate(cancelUpdate, { args: [{ by: 'user:1', reason: 'changed my mind' }] });
        expect(Date.now() - t0).toBeLessThan(1_000);
        expect(state).toMatchObject({ status: 'cancelled', currentStep: 0 });
        expect(await handle.result()).toEqual({ status: 'cancelled' });
        // A cancelled job refuses another cancel before anything reaches history.
        await expect(handle.executeUpdate(cancelUpdate, { args: [{ by: 'user:1' }] })).rejects.toBeInstanceOf(Error);
      },
    );
    expect(calls.cancelledSteps).toBe(1);
    expect(calls.steps.map((s) => s.actionId)).toEqual(['convert']);
    expect(calls.store.map((c) => c.name)).toEqual(['cancelJob', 'publishJobEvent']);
    expect(calls.store[0]!.args).toMatchObject({ jobId: input.jobId, by: 'user:1', reason: 'changed my mind' });
  }, 60_000);

  test('a failed job waits out its retry window for a retry, then closes failed', async () => {
    const calls: Calls = { steps: [], store: [], cancelledSteps: 0 };
    const input = jobInput([step('bad')]);
    await withWorker(calls, { bad: async () => { throw ApplicationFailure.create({ type: 'INVALID_INPUT', message: 'not an image', nonRetryable: true }); } }, async (tq) => {
      const handle = await start(tq, input);
      await waitForState(handle, (s) => s.awaitingRetry && s.status === 'failed');
      await t.env.sleep(WINDOW_MS + 500);
      const err = await handle.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect(((err as WorkflowFailedError).cause as ApplicationFailure).type).toBe('INVALID_INPUT');
    });
    expect(calls.steps).toHaveLength(1);
    expect(calls.store.map((c) => c.name)).toEqual(['failJobStep', 'publishJobEvent']);
    expect(calls.store[0]!.args).toMatchObject({ stepIndex: 0, error: { code: 'INVALID_INPUT', message: 'not an image' } });
  }, 60_000);

  test('a retry within the window answers with the job queued again and resumes from the failed step', async () => {
    const calls: Calls = { steps: [], store: [], cancelledSteps: 0 };
    let failures = 0;
    const input = jobInput([step('resize'), step('flaky')]);
    await withWorker(
      calls,
      {
        resize: async () => ({ result: fileResult('steps/0.webp') }),
        flaky: async () => {
          if (failures++ < 2) throw ApplicationFailure.create({ type: 'AI_PROVIDER_UNAVAILABLE', message: 'provider down' });
          return { result: { type: 'json', data: { caption: 'a cat' } } };
        },
      },
      async (tq) => {
        const handle = await start(tq, input);
        const failed = await waitForState(handle, (s) => s.awaitingRetry && s.status === 'failed');
        expect(failed).toMatchObject({ status: 'failed', error: { code: 'AI_PROVIDER_ERROR', message: 'provider down' } });
        const state = await handle.executeUpdate(retryUpdate, { args: [{ by: 'user:1' }] });
        // Queued again, or already running its failed step when the answer left.
        expect(state).toMatchObject({ retryCount: 1, awaitingRetry: false });
        expect(['queued', 'processing']).toContain(state.status);
        expect(await handle.result()).toEqual({ status: 'completed' });
        // A completed job refuses a retry.
        const refused = await handle.executeUpdate(retryUpdate, { args: [{ by: 'user:1' }] }).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(Error);
      },
    );
    // The first step ran once; the second failed its two attempts, then passed after the retry.
    expect(calls.steps.map((s) => s.actionId)).toEqual(['resize', 'flaky', 'flaky', 'flaky']);
    expect(calls.store.map((c) => c.name)).toEqual(['publishJobEvent', 'failJobStep', 'publishJobEvent', 'beginRetry', 'publishJobEvent']);
  }, 60_000);

  test('a step the store finds terminal ends the run without failing, billing or publishing', async () => {
    const calls: Calls = { steps: [], store: [], cancelledSteps: 0 };
    const input = jobInput([step('resize'), step('convert')]);
    await withWorker(calls, { resize: async () => ({ terminal: 'cancelled' }), convert: async () => ({ result: fileResult('x') }) }, async (tq) => {
      expect(await (await start(tq, input)).result()).toEqual({ status: 'cancelled' });
    });
    expect(calls.steps.map((s) => s.actionId)).toEqual(['resize']);
    expect(calls.store).toEqual([]);
  }, 60_000);

  test('a retry of a job that has not failed is refused by the workflow', async () => {
    const calls: Calls = { steps: [], store: [], cancelledSteps: 0 };
    const input = jobInput([step('slow')]);
    await withWorker(
      calls,
      {
        slow: async () => {
          await Context.current().sleep(500);
          return { result: fileResult('x') };
        },
      },
      async (tq) => {
        const handle = await start(tq, input);
        const refused = await handle.executeUpdate(retryUpdate, { args: [{ by: 'user:1' }] }).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
        expect(((refused as WorkflowUpdateFailedError).cause as ApplicationFailure).type).toBe('JOB_NOT_FAILED');
        expect(await handle.result()).toEqual({ status: 'completed' });
      },
    );
    expect(calls.store.map((c) => c.name)).toEqual(['publishJobEvent']);
  }, 60_000);
});

async function waitForState(handle: { query: (q: typeof getStateQuery) => Promise<JobState> }, done: (s: JobState) => boolean) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const state = await handle.query(getStateQuery);
    if (done(state)) return state;
    if (Date.now() > deadline) throw new Error(`state not reached: ${JSON.stringify(state)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
