import type { ActivityDeps } from '../deps.js';
import { createAttemptWebhookDelivery, createFinishWebhookDelivery } from './attempt.js';
import { createPublishJobEvent } from './publish.js';

export function createWebhookActivities(deps: ActivityDeps) {
  return {
    publishJobEvent: createPublishJobEvent(deps),
    attemptWebhookDelivery: createAttemptWebhookDelivery(deps),
    finishWebhookDelivery: createFinishWebhookDelivery(deps),
  };
}

export type WebhookActivities = ReturnType<typeof createWebhookActivities>;
