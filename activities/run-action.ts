import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Hasher, HashingStream } from '#lib/hashing.js';
import { keys } from '#lib/storage.js';
import type { ProviderKeys, RunActionInput, StepResult } from '#workflows/types.js';
import { ActionError, asActionError } from '#domain/actions/types.js';
import type { ActivityDeps } from './deps.js';
import { inputMeasures } from './input-measures.js';
import { download, MEMORY_INPUT_MAX_BYTES } from './download.js';
import { reportProgress } from './progress.js';

/**
 * The first version's step activity (runs of that workflow version still schedule it): counts the
 * attempt, then executes the action.
 */
export function createRunAction(deps: ActivityDeps) {
  const execute = createActionExecutor(deps);
  return async function runAction(input: RunActionInput): Promise<StepResult> {
    await deps.jobs.countAttempt({ jobId: input.jobId, stepIndex: input.stepIndex ?? 0 }).catch((err: unknown) => deps.logger.warn({ err, jobId: input.jobId }, 'attempt count write failed'));
    return (await execute(input))!;
  };
}

/**
 * Downloads the input to a private directory, runs the action, uploads a file result. Called in
 * an activity. `gate`, awaited once the input is downloaded (so that the two overlap), decides
 * whether the action runs at all: false returns undefined, nothing run. Storage and database hiccups throw plain errors (retried); bad input throws a
 * non-retryable failure.
 */
const HEARTBEAT_MS = 200;

export function createActionExecutor(deps: ActivityDeps) {
  return async function execute(input: RunActionInput & { inputSizeBytes?: number | null }, gate?: () => Promise<boolean>): Promise<StepResult | undefined> {
    const ctx = Context.current();
    const action = deps.actions.get(input.actionId);
    if (!action) throw ApplicationFailure.nonRetryable(`action ${input.actionId} is not available`, 'INVALID_ACTION');
    const attempt = input.attempt ?? ctx.info.attempt;
    const logger = deps.logger.child({ jobId: input.jobId, actionId: input.actionId, attempt });
    const stepIndex = input.stepIndex ?? 0;
    const totalSteps = input.totalSteps ?? 1;
    const workDir = await mkdtemp(join(deps.tmpDir, 'job-'));
    let lastProgress = 0;
    // The worker sends an activity's first heartbeat at once (a Temporal RPC and a write of the
    // activity's state there), later ones throttled: progress waits for the steady beat's first
    // tick, so a step shorter than that sends none (its heartbeat timeout is many seconds).
    let beating = false;
    const progress = reportProgress(deps, { jobId: input.jobId, stepIndex, totalSteps }, (p) => {
      lastProgress = p;
      if (beating) ctx.heartbeat(p);
    });
    // A cancellation reaches the activity in a heartbeat's reply: beat steadily (the worker throttles
    // what it sends to WORKER_HEARTBEAT_THROTTLE_MS), not only when the action reports progress.
    const beat = setInterval(() => {
      beating = true;
      ctx.heartbeat(lastProgress);
    }, HEARTBEAT_MS);
    beat.unref();
    if (attempt > 1) deps.metrics.retries.inc({ action_id: input.actionId });
    const timer = deps.metrics.actionDuration.startTimer({ action_id: input.actionId });
    let outcome = 'failed';
    try {
      const inputPath = join(workDir, 'input');
      const t0 = performance.now();
      // Looked up while the download starts: the action trusts the upload's measures over the file's
      // header, and the upload's size (or the earlier step's) says whether the input fits in memory.
      const measured = inputMeasures(deps, input.organizationId, input.inputKey);
      measured.catch(() => undefined);
      const [source, { sizeBytes, ...measures }] = await Promise.all([deps.storage.get(input.inputKey), measured]);
      const size = sizeBytes ?? input.inputSizeBytes ?? undefined;
      const memoryMax = deps.memoryInputMaxBytes ?? MEMORY_INPUT_MAX_BYTES;
      const inputBuffer = await download(source, inputPath, action.inMemoryInput && size !== undefined && size <= memoryMax ? memoryMax : 0, ctx.cancellationSignal);
      if (gate && !(await gate())) {
        outcome = 'skipped';
        return undefined;
      }
      const t1 = performance.now();
      progress(0.1);
      let output;
      try {
        output = await action.run({
          inputPath,
          ...(inputBuffer ? { inputBuffer } : {}),
          inputMimeType: input.inputMimeType,
          workDir,
          params: input.parameters,
          limits: deps.limits,
          input: measures,
          progress: (f) => progress(0.1 + 0.8 * Math.min(Math.max(f, 0), 1)),
          signal: ctx.cancellationSignal,
          logger,
          ai: input.providerKeys ? aiWithRequestKeys(deps, input.providerKeys) : deps.ai,
          ffmpeg: deps.ffmpeg,
        });
      } catch (thrown) {
        const err = asActionError(thrown);
        deps.metrics.actionFailures.inc({ action_id: input.actionId, error: err instanceof ActionError ? err.type : 'INTERNAL' });
        if (err instanceof ActionError) {
          throw ApplicationFailure.create({
            type: err.type,
            message: err.message,
            nonRetryable: action.nonRetryableErrors.includes(err.type),
            nextRetryDelay: err.opts.retryAfterMs,
          });
        }
        throw err;
      }
      outcome = 'completed';
      const t2 = performance.now();
      // Where a step's time goes (the job engine's profile): download, action.
      const timings = { downloadMs: Math.round(t1 - t0), actionMs: Math.round(t2 - t1) };
      if (output.type === 'json') {
        logger.info({ resultType: output.type, ...timings }, 'action completed');
        return { type: 'json', data: output.data, ...(output.usage ? { usage: output.usage } : {}) };
      }
      const key =
        totalSteps === 1
          ? keys.result(input.organizationId, input.jobId, output.extension)
          : keys.stepResult(input.organizationId, input.jobId, stepIndex, output.extension);
      // A small result goes up in one request from memory (no stream pipeline, no multipart part buffer).
      const small = (await stat(output.path)).size <= memoryMax;
      const hashing = small ? new Hasher() : new HashingStream();
      try {
        if (hashing instanceof Hasher) {
          const bytes = await readFile(output.path);
          hashing.update(bytes);
          await deps.storage.put(key, bytes, output.mimeType);
        } else {
          await deps.storage.put(key, createReadStream(output.path).pipe(hashing), output.mimeType);
        }
        progress(0.95);
        // A cancellation that arrived during the upload still wins: nothing of this attempt remains.
        ctx.cancellationSignal.throwIfAborted();
      } catch (err) {
        await deps.storage.remove(key).catch((e: unknown) => logger.warn({ err: e, key }, 'could not remove a partial result'));
        throw err;
      }
      const digest = hashing.digest();
      logger.info({ resultType: output.type, ...timings, uploadMs: Math.round(performance.now() - t2) }, 'action completed');
      return {
        type: 'file',
        key,
        mimeType: output.mimeType,
        extension: output.extension,
        sizeBytes: digest.size,
        checksumMd5: digest.md5,
        checksumSha256: digest.sha256,
        data: output.data,
      };
    } finally {
      clearInterval(beat);
      timer({ outcome });
      await rm(workDir, { recursive: true, force: true });
    }
  };
}

// The request brought its own provider keys: a registry for this run only, dropped when it ends.
function aiWithRequestKeys(deps: ActivityDeps, keys: ProviderKeys) {
  if (!deps.aiWithKeys) throw ApplicationFailure.nonRetryable('this worker cannot use request provider keys', 'INTERNAL');
  return deps.aiWithKeys(keys);
}
