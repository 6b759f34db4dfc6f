// The work every contender of `npm run bench:jobs` does, defined once: which actions with which
// parameters, and the in-process execution of one step (download from storage, run the action
// plugin, upload its file output) that the bare runs and the BullMQ baseline share.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ActionRegistry } from '#domain/actions/registry.js';
import type { ActionLimits, ActionOutput } from '#domain/actions/types.js';
import { createFfmpeg } from '#domain/media/ffmpeg.js';
import { createAiProviders } from '#lib/ai/index.js';
import type { Config } from '#lib/config.js';
import { HashingStream } from '#lib/hashing.js';
import { createLogger } from '#lib/logger.js';
import type { ObjectStorage } from '#lib/storage.js';

export interface BenchStep {
  actionId: string;
  parameters: Record<string, unknown>;
}

export type CaseName = 'image' | 'pipeline' | 'audio';

/** 1280x720 JPEG -> 320-wide WebP; a three-step pipeline whose JSON step sits in the middle; 30 s WAV -> MP3. */
export const CASES: Record<CaseName, { input: 'jpeg' | 'wav'; steps: BenchStep[] }> = {
  image: { input: 'jpeg', steps: [{ actionId: 'img_resize', parameters: { width: 320, format: 'webp' } }] },
  pipeline: {
    input: 'jpeg',
    steps: [
      { actionId: 'img_resize', parameters: { width: 320 } },
      { actionId: 'img_metadata', parameters: {} },
      { actionId: 'img_format_convert', parameters: { format: 'webp' } },
    ],
  },
  audio: { input: 'wav', steps: [{ actionId: 'aud_format_convert', parameters: { format: 'mp3' } }] },
};

export const MIME = { jpeg: 'image/jpeg', wav: 'audio/wav' } as const;

const silentLogger = createLogger('silent', 'bench');

export function actionRunner(actions: ActionRegistry, config: Config) {
  const limits: ActionLimits = {
    image: { maxResolution: config.media.image.maxResolution },
    audio: { maxDurationSeconds: config.media.audio.maxDurationMinutes * 60 },
  };
  const ai = createAiProviders(config.ai, actions.aiDefaults());
  const ffmpeg = createFfmpeg(config.media.ffmpeg);
  /** Runs one action on a local file, as the worker's activity does. */
  return async function run(step: BenchStep, inputPath: string, inputMimeType: string, workDir: string): Promise<ActionOutput> {
    const action = actions.get(step.actionId);
    if (!action) throw new Error(`action ${step.actionId} is not available`);
    const params = structuredClone(step.parameters);
    const problems = actions.validateParameters(action, params);
    if (problems.length) throw new Error(`bad parameters for ${step.actionId}: ${JSON.stringify(problems)}`);
    return action.run({ inputPath, inputMimeType, workDir, params, limits, progress: () => undefined, signal: new AbortController().signal, logger: silentLogger, ai, ffmpeg });
  };
}

/** A bare run: the case's actions on a local file, in process, nothing else. */
export function bareRunner(actions: ActionRegistry, config: Config, tmpDir: string) {
  const run = actionRunner(actions, config);
  return async function bare(name: CaseName, inputFile: string): Promise<void> {
    const workDir = await mkdtemp(join(tmpDir, 'bare-'));
    try {
      let path = inputFile;
      let mime: string = MIME[CASES[name].input];
      for (const step of CASES[name].steps) {
        const out = await run(step, path, mime, workDir);
        if (out.type === 'file') {
          path = out.path;
          mime = out.mimeType;
        }
      }
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  };
}

/**
 * The work of a job queue worker: per step, download the input from storage, run the action and
 * upload a file output (hashed, like the platform), the next step reading it back.
 */
export function storedRunner(actions: ActionRegistry, config: Config, storage: ObjectStorage, tmpDir: string) {
  const run = actionRunner(actions, config);
  return async function stored(name: CaseName, inputKey: string, jobId: string): Promise<string> {
    const workDir = await mkdtemp(join(tmpDir, 'job-'));
    try {
      let key = inputKey;
      let mime: string = MIME[CASES[name].input];
      let i = 0;
      for (const step of CASES[name].steps) {
        const inputPath = join(workDir, `input-${i}`);
        await pipeline(await storage.get(key), createWriteStream(inputPath));
        const out = await run(step, inputPath, mime, workDir);
        if (out.type === 'file') {
          const outKey = `bench/${jobId}/step-${i}.${out.extension}`;
          const hashing = new HashingStream();
          await storage.put(outKey, createReadStream(out.path).pipe(hashing), out.mimeType);
          hashing.digest();
          key = outKey;
          mime = out.mimeType;
        } else {
          await writeFile(join(workDir, `result-${i}.json`), JSON.stringify(out.data));
        }
        i++;
      }
      return key;
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  };
}
