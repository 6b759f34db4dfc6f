import { ActivityCancellationType, CancellationScope, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '#activities/index.js';
import type { JobStepOutcome, RunJobStepInput } from '#activities/run-step.js';
import type { PipelineStep } from './types.js';

/** Jobs started before pieces existed replay without the planning activity. */
export const PIECES_PATCH = 'transcribe-long-audio-in-pieces';

const cleanup = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

/** Whether this step goes through the piece planner (decided once per step, deterministically). */
export function runsInPieces(step: PipelineStep): boolean {
  return step.policy.runsInPieces === true && patched(PIECES_PATCH);
}

/**
 * A step of an action with `pieces` (aud_transcribe, aud_translate) whose audio may be too long for
 * its provider: the planner cuts it at silences into pieces in storage; each piece is its own
 * activity with the step's timeouts and retry policy (a failed piece is retried alone), all at
 * once; the stitcher joins their transcripts with absolute times, makes the step's output with the
 * action's `result` and records it in the job store (as runJobStep does). Audio that fits runs as
 * the usual single activity (`whole`). The pieces are removed whatever the outcome.
 */
export async function transcribeInPieces(step: PipelineStep, args: RunJobStepInput, whole: () => Promise<JobStepOutcome>): Promise<JobStepOutcome> {
  const { policy } = step;
  const acts = proxyActivities<Activities>({
    startToCloseTimeout: policy.startToCloseMs,
    heartbeatTimeout: policy.heartbeatMs,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      maximumAttempts: policy.retry.maximumAttempts,
      initialInterval: policy.retry.initialIntervalMs,
      backoffCoefficient: policy.retry.backoffCoefficient,
      maximumInterval: policy.retry.maximumIntervalMs,
      nonRetryableErrorTypes: policy.nonRetryableErrors,
    },
  });
  // The action goes with every activity, so the pieces are transcribed or translated as the step's
  // action does (an activity's input is not part of what a replay compares: no patch needed).
  const { inputKey, inputMimeType, inputSizeBytes, completesJob, ...common } = args;
  const plan = await acts.planTranscriptionPieces({ ...common, inputKey, inputMimeType });
  // The job store already held the step's output, or the job as ended.
  if (plan.outcome) return plan.outcome;
  if (!plan.pieces.length) return whole();
  const transcripts: string[] = [];
  const pending: Promise<{ offset: number; duration: number; transcriptKey: string; provider: string }>[] = [];
  // A piece that fails for good stops the others; the step fails once they have all stopped.
  const pieces = new CancellationScope();
  try {
    const done = await pieces
      .run(() => {
        for (const piece of plan.pieces) {
          pending.push(
            acts.transcribePiece({ ...common, piece, pieceCount: plan.pieces.length }).then((out) => {
              transcripts.push(out.transcriptKey);
              return { offset: piece.offset, duration: piece.duration, ...out };
            }),
          );
        }
        return Promise.all(pending);
      })
      .catch(async (err: unknown) => {
        pieces.cancel();
        await Promise.allSettled(pending);
        throw err;
      });
    return await acts.stitchTranscription({ ...common, durationSeconds: plan.durationSeconds, pieces: done, inputSizeBytes, completesJob });
  } finally {
    const keys = [...plan.pieces.map((p) => p.key), ...transcripts];
    await CancellationScope.nonCancellable(() => cleanup.removeTranscriptionPieces(keys)).catch(() => undefined);
  }
}
