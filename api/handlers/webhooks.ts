import type { WebhookAttempt, WebhookEndpoint } from '#entities/index.js';
import type { components } from '../generated/openapi.js';
import { reply, type Route } from '../handler.js';
import { jsonBody } from '../middleware/body.js';
import type { Services } from '../services/index.js';
import type { DeliveryWithAttempts } from '../services/webhook-service.js';

type WebhookJson = components['schemas']['Webhook'];
type DeliveryJson = components['schemas']['WebhookDelivery'];

export const listWebhooks = (s: Services): Route<'listWebhooks'> => ({
  async handle(ctx, { query }) {
    const { items, nextCursor } = await s.webhooks.list(ctx.state.organizationId, { order: query.order ?? 'desc', limit: query.limit ?? 20, cursor: query.cursor });
    reply(ctx, 'listWebhooks', 200, { data: items.map(toWebhook), next_cursor: nextCursor });
  },
});

export const createWebhook = (s: Services, bodyLimitKb: number): Route<'createWebhook'> => ({
  before: [jsonBody(bodyLimitKb)],
  async handle(ctx, { body }) {
    const { endpoint, secret } = await s.webhooks.create(ctx.state.organizationId, body);
    reply(ctx, 'createWebhook', 201, { ...toWebhook(endpoint), secret });
  },
});

export const getWebhook = (s: Services): Route<'getWebhook'> => ({
  async handle(ctx, { path }) {
    reply(ctx, 'getWebhook', 200, toWebhook(await s.webhooks.get(ctx.state.organizationId, path.id)));
  },
});

export const updateWebhook = (s: Services, bodyLimitKb: number): Route<'updateWebhook'> => ({
  before: [jsonBody(bodyLimitKb)],
  async handle(ctx, { path, body }) {
    reply(ctx, 'updateWebhook', 200, toWebhook(await s.webhooks.update(ctx.state.organizationId, path.id, body)));
  },
});

export const deleteWebhook = (s: Services): Route<'deleteWebhook'> => ({
  async handle(ctx, { path }) {
    await s.webhooks.remove(ctx.state.organizationId, path.id);
    ctx.status = 204;
  },
});

export const rotateWebhookSecret = (s: Services, bodyLimitKb: number): Route<'rotateWebhookSecret'> => ({
  before: [jsonBody(bodyLimitKb)],
  async handle(ctx, { path, body }) {
    const { endpoint, secret } = await s.webhooks.rotate(ctx.state.organizationId, path.id, body?.grace_period_seconds ?? 86_400);
    reply(ctx, 'rotateWebhookSecret', 200, { ...toWebhook(endpoint), secret });
  },
});

export const testWebhook = (s: Services): Route<'testWebhook'> => ({
  async handle(ctx, { path }) {
    reply(ctx, 'testWebhook', 202, toDelivery(await s.webhooks.test(ctx.state.organizationId, path.id)));
  },
});

export const listWebhookDeliveries = (s: Services): Route<'listWebhookDeliveries'> => ({
  async handle(ctx, { path, query }) {
    const page = { order: query.order ?? 'desc', limit: query.limit ?? 20, cursor: query.cursor };
    const { items, nextCursor } = await s.webhooks.deliveries(ctx.state.organizationId, path.id, page);
    reply(ctx, 'listWebhookDeliveries', 200, { data: items.map(toDelivery), next_cursor: nextCursor });
  },
});

export const redeliverWebhook = (s: Services): Route<'redeliverWebhook'> => ({
  async handle(ctx, { path }) {
    reply(ctx, 'redeliverWebhook', 202, toDelivery(await s.webhooks.redeliver(ctx.state.organizationId, path.id, path.deliveryId)));
  },
});

// Never the secret: it is answered once, by create and rotate.
function toWebhook(e: WebhookEndpoint): WebhookJson {
  return {
    id: e.id,
    url: e.url,
    events: e.events as WebhookJson['events'],
    description: e.description ?? null,
    status: e.status,
    disabled_reason: e.disabledReason ?? null,
    previous_secret_expires_at: e.previousSecretExpiresAt?.toISOString() ?? null,
    created_at: e.createdAt.toISOString(),
    updated_at: e.updatedAt.toISOString(),
  };
}

function toDelivery(d: DeliveryWithAttempts): DeliveryJson {
  return {
    id: d.id,
    webhook_id: d.endpoint.id,
    event: d.event,
    status: d.status,
    attempt_count: d.attemptCount,
    last_status_code: d.lastStatusCode ?? null,
    last_error: d.lastError ?? null,
    created_at: d.createdAt.toISOString(),
    completed_at: d.completedAt?.toISOString() ?? null,
    payload: JSON.parse(d.body) as Record<string, unknown>,
    attempts: d.attempts.map(toAttempt),
  };
}

const toAttempt = (a: WebhookAttempt): DeliveryJson['attempts'][number] => ({
  attempt: a.attemptNumber,
  started_at: a.startedAt.toISOString(),
  duration_ms: a.durationMs,
  status_code: a.statusCode ?? null,
  error: a.error ?? null,
  succeeded: a.succeeded,
});
