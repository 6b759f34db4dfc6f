import type { ActivityDeps } from './deps.js';
import { createJobBookkeeping } from './job-bookkeeping.js';
import { createImportActivities } from './import-media.js';
import { createRetentionActivities } from './retention.js';
import { createRunAction } from './run-action.js';
import { createRunJobStep } from './run-step.js';
import { createThumbnailActivities } from './thumbnail.js';
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
    ...createTranscriptionActivities(deps),
    ...createThumbnailActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
