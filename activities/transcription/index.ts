import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { buffer } from 'node:stream/consumers';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { addUsage, type AiRegistry, type Transcript, type TranscriptSegment } from '#lib/ai/ports.js';
import { AI_NON_RETRYABLE } from '#domain/actions/ai-support.js';
import { openAudio, readLimit } from '#domain/actions/audio/audio-io.js';
import { ActionError, asActionError, type AudioPieces, type InputMeasures } from '#domain/actions/types.js';
import { inputMeasures } from '../input-measures.js';
import { keys } from '#lib/storage.js';
import type {
  StepResult,
  StitchTranscriptionInput,
  TranscribePieceInput,
  TranscriptionPiece,
  TranscriptionPlan,
  TranscriptionStepInput,
} from '#workflows/types.js';
import type { ActivityDeps } from '../deps.js';
import type { JobStepOutcome } from '../run-step.js';
import { isTerminal } from '#workflows/job-status.js';
import { reportProgress } from '../progress.js';
import { planCuts, silenceParser, wavSeconds } from './cuts.js';
import { pieceProgress } from './progress.js';

const DEFAULT_LIMITS = { openaiMaxAudioBytes: 25 * 1024 * 1024, localMaxPieceSeconds: 300 };
/** Pieces are 16 kHz mono 16-bit PCM: the local engine's input, and a third of CD audio for OpenAI. */
const PIECE_RATE = 16_000;
const PIECE_BYTES_PER_SECOND = PIECE_RATE * 2;
/** Room for the WAV header and the multipart form around a piece. */
const PIECE_HEADROOM_BYTES = 64 * 1024;
/** No audio codec we read is below 8 kbit/s: a smaller file cannot be longer than its size says. */
const MIN_BYTES_PER_SECOND = 1_000;
/** A pause this long and this quiet is a place to cut. */
const SILENCE = 'silencedetect=noise=-30dB:d=0.3';
const BEAT_MS = 10_000;

/** Steps that ran in pieces before the activities were told their action were all aud_transcribe. */
const FIRST_PIECES_ACTION = 'aud_transcribe';

/**
 * Long audio in pieces, for every action with `pieces` (aud_transcribe, aud_translate): plan (cut
 * at silences, re-encode, store the pieces), run the action on each piece (one activity each,
 * retried alone), stitch the pieces' transcripts with absolute times, and remove the pieces. The
 * workflow runs them (workflows/transcribe-in-pieces.ts).
 */
export function createTranscriptionActivities(deps: ActivityDeps) {
  const ff = deps.ffmpeg;
  const limits = deps.transcription ?? DEFAULT_LIMITS;
  const registry = (providerKeys: TranscriptionStepInput['providerKeys']): AiRegistry => {
    if (!providerKeys) return deps.ai;
    if (!deps.aiWithKeys) throw ApplicationFailure.nonRetryable('this worker cannot use request provider keys', 'INTERNAL');
    return deps.aiWithKeys(providerKeys);
  };
  const piecesOf = (actionId: string | undefined): AudioPieces<unknown> => {
    const action = deps.actions.get(actionId ?? FIRST_PIECES_ACTION);
    if (!action?.pieces) throw ApplicationFailure.nonRetryable(`action ${actionId} does not run in pieces`, 'INTERNAL');
    return action.pieces as AudioPieces<unknown>;
  };

  return {
    async planTranscriptionPieces(input: TranscriptionStepInput): Promise<TranscriptionPlan> {
      const ctx = Context.current();
      const provider = guard(() => piecesOf(input.actionId).provider(registry(input.providerKeys), input.parameters));
      const openai = provider === 'openai';
      const maxPiece = openai ? Math.max(1, Math.floor((limits.openaiMaxAudioBytes - PIECE_HEADROOM_BYTES) / PIECE_BYTES_PER_SECOND)) : limits.localMaxPieceSeconds;
      const size = (await deps.storage.stat(input.inputKey))?.size;
      if (size !== undefined && size <= (openai ? limits.openaiMaxAudioBytes : maxPiece * MIN_BYTES_PER_SECOND)) return { pieces: [], durationSeconds: 0 };

      // The step starts here (the job becomes processing and shows the pieces' progress).
      const start = await deps.jobs.startStep({ jobId: input.jobId, stepIndex: input.stepIndex, countAttempt: false });
      if (!start.run) return { pieces: [], durationSeconds: 0, outcome: 'terminal' in start ? { terminal: start.terminal } : { result: start.result } };
      const workDir = await mkdtemp(join(deps.tmpDir, 'pieces-'));
      const progress = reportProgress(deps, input, (p) => ctx.heartbeat(p));
      try {
        const inputPath = join(workDir, 'input');
        await pipeline(await deps.storage.get(input.inputKey), createWriteStream(inputPath), { signal: ctx.cancellationSignal });
        progress(0.02);
        const measured = await inputMeasures(deps, input.organizationId, input.inputKey);
        const audio = await guardAsync(() => openAudio(actionContext(deps, inputPath, input.inputMimeType, ctx.cancellationSignal, measured)));
        const duration = audio.durationSeconds;
        if (!openai && duration <= maxPiece) return { pieces: [], durationSeconds: duration };

        const silences = silenceParser();
        await guardAsync(() =>
          ff.run({
            input: inputPath,
            inputFormat: audio.container,
            inputOptions: readLimit(audio),
            outputOptions: ['-map', '0:a:0', '-af', SILENCE, '-f', 'null'],
            output: null,
            durationSeconds: duration,
            onStderr: (line) => silences.line(line),
            onProgress: (f) => progress(0.02 + 0.04 * f),
            signal: ctx.cancellationSignal,
          }),
        );
        const cuts = planCuts(duration, silences.silences(duration), maxPiece);
        await guardAsync(() =>
          ff.run({
            input: inputPath,
            inputFormat: audio.container,
            inputOptions: readLimit(audio),
            outputOptions: [
              '-map', '0:a:0', '-vn', '-ac', '1', '-ar', String(PIECE_RATE), '-c:a', 'pcm_s16le',
              '-f', 'segment', '-segment_format', 'wav', '-reset_timestamps', '1',
              ...(cuts.length ? ['-segment_times', cuts.join(',')] : ['-segment_time', String(duration + 1)]),
            ],
            output: join(workDir, 'piece-%03d.wav'),
            durationSeconds: duration,
            onProgress: (f) => progress(0.06 + 0.03 * f),
            signal: ctx.cancellationSignal,
          }),
        );
        const files = (await readdir(workDir)).filter((f) => /^piece-\d+\.wav$/.test(f)).sort();
        const pieces: TranscriptionPiece[] = [];
        let offset = 0;
        for (const [i, file] of files.entries()) {
          const path = join(workDir, file);
          const seconds = await pieceSeconds(path);
          if (seconds < 0.05) continue; // a sliver the muxer left at the end
          const key = keys.transcriptionPiece(input.organizationId, input.jobId, input.stepIndex, i, 'wav');
          await deps.storage.put(key, createReadStream(path), 'audio/wav');
          pieces.push({ key, offset: round(offset), duration: round(seconds) });
          offset += seconds;
        }
        progress(0.1);
        deps.logger.info({ jobId: input.jobId, pieces: pieces.length, durationSeconds: duration, actionId: input.actionId ?? FIRST_PIECES_ACTION, provider }, 'long audio cut into pieces');
        return { pieces, durationSeconds: duration };
      } finally {
        await rm(workDir, { recursive: true, force: true });
      }
    },

    async transcribePiece(input: TranscribePieceInput): Promise<{ transcriptKey: string; provider: string }> {
      const ctx = Context.current();
      const pieces = piecesOf(input.actionId);
      const workDir = await mkdtemp(join(deps.tmpDir, 'piece-'));
      const before = Number(ctx.info.heartbeatDetails ?? 0) || 0;
      const progress = pieceProgress(deps, input, before);
      let done = before;
      const beat = setInterval(() => ctx.heartbeat(done), BEAT_MS);
      try {
        const path = join(workDir, 'piece.wav');
        await pipeline(await deps.storage.get(input.piece.key), createWriteStream(path), { signal: ctx.cancellationSignal });
        ctx.heartbeat(done);
        const { transcript, provider } = await guardAsync(() =>
          pieces.run(registry(input.providerKeys), input.parameters, { path, filename: 'audio.wav', mimeType: 'audio/wav' }, {
            signal: ctx.cancellationSignal,
            onProgress: (f) => {
              done = Math.max(done, Math.min(f, 1));
              ctx.heartbeat(done);
              progress(done);
            },
          }),
        );
        const transcriptKey = input.piece.key.replace(/\.wav$/, '.json');
        await deps.storage.put(transcriptKey, Buffer.from(JSON.stringify(transcript)), 'application/json');
        progress(1);
        return { transcriptKey, provider };
      } finally {
        clearInterval(beat);
        await rm(workDir, { recursive: true, force: true });
      }
    },

    /** Joins the pieces' transcripts and records the step's output in the job store, as runJobStep does. */
    async stitchTranscription(input: StitchTranscriptionInput): Promise<JobStepOutcome> {
      const parts = await Promise.all(
        input.pieces.map(async (p) => ({ ...p, transcript: JSON.parse((await buffer(await deps.storage.get(p.transcriptKey))).toString('utf8')) as Transcript })),
      );
      const transcript = stitch(parts, input.durationSeconds);
      const result = piecesOf(input.actionId).result(transcript, parts[0]?.provider ?? 'unknown', input.parameters, input.durationSeconds);
      const output: StepResult = { type: 'json', data: { ...result.data, pieces: input.pieces.length }, ...(result.usage ? { usage: result.usage } : {}) };
      const at = { jobId: input.jobId, stepIndex: input.stepIndex };
      const recorded = await deps.jobs.finishStep({ ...at, inputSizeBytes: input.inputSizeBytes, result: output, complete: input.completesJob });
      if (!recorded.recorded && isTerminal(recorded.status) && recorded.status !== 'completed') return { terminal: recorded.status };
      return { result: output };
    },

    /** Best effort: a piece left behind is only clutter under the job's prefix. */
    async removeTranscriptionPieces(pieceKeys: string[]): Promise<void> {
      await Promise.all(
        pieceKeys.map((key) => deps.storage.remove(key).catch((err: unknown) => deps.logger.warn({ err, key }, 'could not remove a transcription piece'))),
      );
    },
  };
}

/** The pieces' transcripts as one, every time moved by its piece's offset; segments renumbered. */
export function stitch(parts: { offset: number; duration: number; transcript: Transcript }[], duration: number): Transcript {
  const segments: TranscriptSegment[] = [];
  const words: NonNullable<Transcript['words']> = [];
  const shift = <T extends { start: number; end: number }>(t: T, by: number): T => ({ ...t, start: round(t.start + by), end: round(t.end + by) });
  for (const { offset, duration: pieceDuration, transcript } of parts) {
    const untimed = transcript.segments.length === 1 && transcript.segments[0]!.start === 0 && transcript.segments[0]!.end === 0;
    for (const seg of transcript.segments) {
      const timed = untimed ? { ...seg, end: pieceDuration } : seg;
      segments.push({ ...shift(timed, offset), id: segments.length, ...(seg.words ? { words: seg.words.map((w) => shift(w, offset)) } : {}) });
    }
    for (const w of transcript.words ?? []) words.push(shift(w, offset));
  }
  const first = parts.find((p) => p.transcript.language)?.transcript;
  return {
    text: parts.map((p) => p.transcript.text.trim()).filter(Boolean).join(' '),
    ...(first?.language ? { language: first.language } : {}),
    duration,
    segments,
    ...(words.length ? { words } : {}),
    ...(parts[0]?.transcript.model ? { model: parts[0].transcript.model } : {}),
    usage: parts.reduce<Transcript['usage']>((u, p) => addUsage(u, p.transcript.usage), undefined),
  };
}

const round = (n: number) => Math.round(n * 1000) / 1000;

async function pieceSeconds(path: string): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const header = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(header, 0, header.length, 0);
    return wavSeconds(header.subarray(0, bytesRead), (await stat(path)).size);
  } finally {
    await handle.close();
  }
}

// Only what openAudio reads: the input, its type and measures, the duration limit and the signal.
function actionContext(deps: ActivityDeps, inputPath: string, inputMimeType: string, signal: AbortSignal, input: InputMeasures) {
  return { inputPath, inputMimeType, signal, limits: deps.limits, input, ffmpeg: deps.ffmpeg };
}

/** Bad input and provider errors as the activity failures runAction makes of them. */
function toFailure(thrown: unknown): unknown {
  const err = asActionError(thrown);
  if (!(err instanceof ActionError)) return err;
  return ApplicationFailure.create({
    type: err.type,
    message: err.message,
    nonRetryable: AI_NON_RETRYABLE.includes(err.type),
    nextRetryDelay: err.opts.retryAfterMs,
  });
}
function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw toFailure(err);
  }
}
async function guardAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toFailure(err);
  }
}

export type TranscriptionActivities = ReturnType<typeof createTranscriptionActivities>;
