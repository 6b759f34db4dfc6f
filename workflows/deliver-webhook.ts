import { ActivityFailure, ApplicationFailure, proxyActivities, TimeoutFailure } from '@temporalio/workflow';
import type { WebhookActivities } from '#activities/webhooks/index.js';
import { FINAL_DELIVERY_ERRORS, type DeliverWebhookInput } from './webhook-types.js';

// Bookkeeping must land eventually, so it retries without limit; it is idempotent.
const { finishWebhookDelivery } = proxyActivities<WebhookActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * One webhook delivery: attempts with exponential backoff until a 2xx, a final refusal (410 Gone,
 * a refused address, a disabled endpoint) or the retry window closes. Each attempt records itself.
 */
export async function deliverWebhook(input: DeliverWebhookInput): Promise<'succeeded' | 'failed'> {
  const { attemptWebhookDelivery } = proxyActivities<WebhookActivities>({
    // The attempt aborts its request at timeoutMs and records it; the margin covers that bookkeeping.
    startToCloseTimeout: input.timeoutMs + 10_000,
    scheduleToCloseTimeout: input.retry.giveUpAfterMs,
    retry: {
      initialInterval: input.retry.initialIntervalMs,
      backoffCoefficient: 2,
      maximumInterval: input.retry.maximumIntervalMs,
      nonRetryableErrorTypes: FINAL_DELIVERY_ERRORS,
    },
  });
  try {
    await attemptWebhookDelivery(input.deliveryId);
    return 'succeeded';
  } catch (err) {
    await finishWebhookDelivery(input.deliveryId, reason(err));
    return 'failed';
  }
}

function reason(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof TimeoutFailure) return 'gave up: no successful attempt within the retry window';
  if (cause instanceof ApplicationFailure) return cause.message;
  return cause instanceof Error ? cause.message : String(cause);
}
