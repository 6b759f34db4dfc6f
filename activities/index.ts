import type { ActivityDeps } from './deps.js';
import { createJobBookkeeping } from './job-bookkeeping.js';
import { createImportActivities } from './import-media.js';
import { createRetentionActivities } from './retention.js';
import { createRunAction } from './run-action.js';
import { createThumbnailActivities } from './thumbnail.js';
import { asInfraFailure, createRunJobStep } from './run-step.js';
import { createTranscriptionActivities } from './transcription/index.js';
import { createWebhookActivities } from './webhooks/index.js';

export function createActivities(deps: ActivityDeps) {
  return {
    ...createJobBookkeeping(deps),
    runJobStep: createRunJobStep(deps),
    runAction: createRunAction(deps),
    ...createRetentionActivities(deps),
    ...createWebhookActivities(deps),
    ...createImportActivities(deps),
    ...classifyingInfraFailures(deps, createTranscriptionActivities(deps)),
    ...createThumbnailActivities(deps),
  };
}

// The pieces of a long transcription are a step's activities too: their outages are classified as runJobStep's are.
function classifyingInfraFailures<T extends object>(deps: ActivityDeps, acts: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(acts) as [string, (input: { jobId: string; stepIndex?: number }) => Promise<unknown>][]) {
    wrapped[name] = async (input: { jobId: string; stepIndex?: number }) => {
      try {
        return await fn(input);
      } catch (err) {
        throw asInfraFailure(err, deps.logger, input);
      }
    };
  }
  return wrapped as T;
}

export type Activities = ReturnType<typeof createActivities>;
