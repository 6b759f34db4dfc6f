// A step whose action runs long audio in pieces (workflows/transcribe-in-pieces.ts), against mock
// piece activities: every activity is told the step's action, the pieces run at once, a piece that
// fails is retried alone, and the stitcher gets each piece's offset.
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { JobStepOutcome } from '#activities/run-step.js';
import type { PipelineStep, ProcessJobInput, StitchTranscriptionInput, TranscribePieceInput, TranscriptionPlan, TranscriptionStepInput } from '#workflows/types.js';
import { createWorkflowTestEnv, type WorkflowTestEnv } from './support/workflow-env.js';

let t: WorkflowTestEnv;
beforeAll(async () => {
  t = await createWorkflowTestEnv();
}, 120_000);
afterAll(async () => {
  await t?.teardown();
});

const step = (actionId: string): PipelineStep => ({
  actionId,
  parameters: { target_language: 'en', prompt: '' },
  policy: {
    startToCloseMs: 60_000,
    heartbeatMs: 5_000,
    retry: { maximumAttempts: 3, initialIntervalMs: 50, backoffCoefficient: 2, maximumIntervalMs: 200 },
    nonRetryableErrors: ['INVALID_INPUT'],
    runsInPieces: true,
  },
});
const jobInput = (steps: PipelineStep[]): ProcessJobInput => ({
  jobId: randomUUID(),
  organizationId: randomUUID(),
  inputKey: 'originals/input.mp3',
  inputMimeType: 'audio/mpeg',
  steps,
  retry: { windowMs: 500, maxRetries: 0, count: 0 },
  infraRetry: { initialIntervalMs: 20, maximumIntervalMs: 100, giveUpAfterMs: 60_000 },
});

test('aud_translate in pieces: each piece activity gets the action, one failed piece is retried alone, the stitch gets the offsets', async () => {
  const plan: TranscriptionPlan = {
    durationSeconds: 30,
    pieces: [0, 1, 2].map((i) => ({ key: `pieces/${i}.wav`, offset: i * 10, duration: 10 })),
  };
  const calls: { activity: string; actionId?: string; key?: string; attempt: number }[] = [];
  const stitched: StitchTranscriptionInput[] = [];
  const removed: string[][] = [];
  const record = (activity: string, input: { actionId?: string }, key?: string) => calls.push({ activity, actionId: input.actionId, key, attempt: Context.current().info.attempt });
  const activities = {
    planTranscriptionPieces: async (input: TranscriptionStepInput) => (record('plan', input), plan),
    transcribePiece: async (input: TranscribePieceInput) => {
      record('piece', input, input.piece.key);
      if (input.piece.key === 'pieces/1.wav' && Context.current().info.attempt === 1) throw ApplicationFailure.create({ type: 'AI_PROVIDER_ERROR', message: 'openai replied 500' });
      return { transcriptKey: input.piece.key.replace('.wav', '.json'), provider: 'openai' };
    },
    stitchTranscription: async (input: StitchTranscriptionInput): Promise<JobStepOutcome> => {
      record('stitch', input);
      stitched.push(input);
      return { result: { type: 'json', data: { text: 'joined' } } };
    },
    removeTranscriptionPieces: async (keys: string[]) => void removed.push(keys),
    runJobStep: async () => {
      throw new Error('a step in pieces runs no whole step');
    },
    failJobStep: async () => undefined,
    publishJobEvent: async () => undefined,
    cancelJob: async () => undefined,
    beginRetry: async () => 1,
  };
  const input = jobInput([step('aud_translate')]);
  const outcome = await t.withWorker(activities, async (taskQueue) => {
    const handle = await t.env.client.workflow.start('processJob', { taskQueue, workflowId: `job-${input.jobId}`, args: [input] });
    return handle.result();
  });
  expect(outcome).toEqual({ status: 'completed' });
  expect(calls.every((c) => c.actionId === 'aud_translate')).toBe(true);
  const pieces = calls.filter((c) => c.activity === 'piece');
  expect(pieces.map((c) => `${c.key}#${c.attempt}`).sort()).toEqual(['pieces/0.wav#1', 'pieces/1.wav#1', 'pieces/1.wav#2', 'pieces/2.wav#1']);
  expect(calls.filter((c) => c.activity !== 'piece').map((c) => `${c.activity}#${c.attempt}`)).toEqual(['plan#1', 'stitch#1']);
  expect(stitched[0]!.pieces.map((p) => [p.offset, p.transcriptKey]).sort()).toEqual([
    [0, 'pieces/0.json'],
    [10, 'pieces/1.json'],
    [20, 'pieces/2.json'],
  ]);
  expect(stitched[0]).toMatchObject({ durationSeconds: 30, completesJob: true });
  expect(removed.flat().sort()).toEqual(['pieces/0.json', 'pieces/0.wav', 'pieces/1.json', 'pieces/1.wav', 'pieces/2.json', 'pieces/2.wav']);
}, 60_000);
