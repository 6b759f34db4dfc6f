// Plain data shared by the API, the delivery workflow and its activities (no runtime imports: the
// workflow bundle must stay deterministic). Inputs carry ids only: secrets stay in the database.
export interface DeliverWebhookInput {
  deliveryId: string;
  /** One HTTP attempt, until its response is read. */
  timeoutMs: number;
  retry: { initialIntervalMs: number; maximumIntervalMs: number; giveUpAfterMs: number };
}

/** Failures that retrying cannot fix: the workflow stops at once. */
export const FINAL_DELIVERY_ERRORS = ['WebhookEndpointGone', 'WebhookAddressRefused', 'WebhookEndpointInactive', 'WebhookDeliveryMissing'];

/** One workflow id per delivery, so publishing the same event twice delivers it once. */
export const workflowIdForDelivery = (deliveryId: string): string => `webhook-delivery-${deliveryId}`;
