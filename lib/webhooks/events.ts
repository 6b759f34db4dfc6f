/** Events an endpoint may subscribe to. `job.progress` is opt-in like the others, but never implied. */
export const WEBHOOK_EVENTS = ['job.completed', 'job.failed', 'job.cancelled', 'job.progress'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];
/** Sent by `POST /api/v1/webhooks/{id}/test` whatever the endpoint subscribes to. */
export const TEST_EVENT = 'webhook.test';

/** The body of a delivery (spec §10.1). Serialized once and stored, so every attempt sends the same bytes. */
export function webhookBody(event: string, organizationId: string, at: Date, data: Record<string, unknown>): string {
  return JSON.stringify({ event, timestamp: at.toISOString().replace(/\.\d{3}Z$/, 'Z'), organization_id: organizationId, data });
}
