import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import type { WebhookConfig } from '#lib/config.js';
import { workflowIdForDelivery, type DeliverWebhookInput } from '#workflows/webhook-types.js';

/**
 * Starts the delivery workflow of a stored delivery. `first` refuses a second run of the same
 * delivery (a publish repeated by an activity retry); a redelivery may follow a closed run.
 * Returns false when a run was already there.
 */
export async function startDelivery(
  client: Client,
  taskQueue: string,
  config: WebhookConfig,
  deliveryId: string,
  mode: 'first' | 'redeliver',
): Promise<boolean> {
  const input: DeliverWebhookInput = { deliveryId, timeoutMs: config.timeoutMs, retry: config.retry };
  try {
    await client.workflow.start('deliverWebhook', {
      taskQueue,
      workflowId: workflowIdForDelivery(deliveryId),
      args: [input],
      workflowIdReusePolicy: mode === 'first' ? WorkflowIdReusePolicy.REJECT_DUPLICATE : WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    });
    return true;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw err;
  }
}
