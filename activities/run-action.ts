import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { HashingStream } from '../lib/hashing.js';
import { keys } from '../lib/storage.js';
import type { ProviderKeys, RunActionInput, StepResult } from '../workflows/types.js';
import { ActionError } from './actions/types.js';
import type { ActivityDeps } from './deps.js';
import { reportProgress } from './progress.js';

/**
 * Downloads the input to a private directory, runs the action, uploads a file result.
 * Storage and database hiccups throw plain errors (retried); bad input throws a non-retryable failure.
 */
export function createRunAction(deps: ActivityDeps) {
  return async function runAction(input: RunActionInput): Promise<StepResult> {
    const ctx = Context.current();
    const action = deps.actions.get(input.actionId);
    if (!action) throw ApplicationFailure.nonRetryable(`action ${input.actionId} is not available`, 'INVALID_ACTION');
    const logger = deps.logger.child({ jobId: input.jobId, actionId: input.actionId, attempt: ctx.info.attempt });
    const stepIndex = input.stepIndex ?? 0;
    const totalSteps = input.totalSteps ?? 1;
    const workDir = await mkdtemp(join(deps.tmpDir, 'job-'));
    const progress = reportProgress(deps, { jobId: input.jobId, stepIndex, totalSteps }, (p) => ctx.heartbeat(p));
    await countAttempt(deps, input.jobId, stepIndex);
    if (ctx.info.attempt > 1) deps.metrics.retries.inc({ action_id: input.actionId });
    const timer = deps.metrics.actionDuration.startTimer({ action_id: input.actionId });
    let outcome = 'failed';
    try {
      const inputPath = join(workDir, 'input');
      await pipeline(await deps.storage.get(input.inputKey), createWriteStream(inputPath), { signal: ctx.cancellationSignal });
      progress(0.1);
      let output;
      try {
        output = await action.run({
          inputPath,
          inputMimeType: input.inputMimeType,
          workDir,
          params: input.parameters,
          limits: deps.limits,
          progress: (f) => progress(0.1 + 0.8 * Math.min(Math.max(f, 0), 1)),
          signal: ctx.cancellationSignal,
          logger,
          ai: input.providerKeys ? aiWithRequestKeys(deps, input.providerKeys) : deps.ai,
        });
      } catch (err) {
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
      logger.info({ resultType: output.type }, 'action completed');
      if (output.type === 'json') return { type: 'json', data: output.data, ...(output.usage ? { usage: output.usage } : {}) };
      const key =
        totalSteps === 1
          ? keys.result(input.organizationId, input.jobId, output.extension)
          : keys.stepResult(input.organizationId, input.jobId, stepIndex, output.extension);
      const hashing = new HashingStream();
      try {
        await deps.storage.put(key, createReadStream(output.path).pipe(hashing), output.mimeType);
        progress(0.95);
        // A cancellation that arrived during the upload still wins: nothing of this attempt remains.
        ctx.cancellationSignal.throwIfAborted();
      } catch (err) {
        await deps.storage.remove(key).catch((e: unknown) => logger.warn({ err: e, key }, 'could not remove a partial result'));
        throw err;
      }
      const digest = hashing.digest();
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
      timer({ outcome });
      await rm(workDir, { recursive: true, force: true });
    }
  };
}

// Attempts over every run of the step, shown on the job's steps; best effort like progress.
async function countAttempt(deps: ActivityDeps, jobId: string, stepIndex: number): Promise<void> {
  await deps.orm.em
    .fork()
    .execute(`update "job_steps" set "attempts" = "attempts" + 1, "updated_at" = now() where "job_id" = ? and "step_index" = ?`, [jobId, stepIndex])
    .catch((err: unknown) => deps.logger.warn({ err, jobId }, 'attempt count write failed'));
}

// The request brought its own provider keys: a registry for this run only, dropped when it ends.
function aiWithRequestKeys(deps: ActivityDeps, keys: ProviderKeys) {
  if (!deps.aiWithKeys) throw ApplicationFailure.nonRetryable('this worker cannot use request provider keys', 'INTERNAL');
  return deps.aiWithKeys(keys);
}
