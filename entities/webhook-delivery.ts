import { randomUUID } from 'node:crypto';
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { OrganizationSchema } from './organization.js';
import { WebhookEndpointSchema } from './webhook-endpoint.js';

export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

/**
 * One event for one endpoint. Its id is the `webhook-id` header (the same on every attempt), and
 * its body is stored as sent so that every attempt and redelivery carries the same bytes.
 */
export const WebhookDeliverySchema = defineEntity({
  name: 'WebhookDelivery',
  tableName: 'webhook_deliveries',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()).defaultRaw('gen_random_uuid()'),
    organization: p.manyToOne(OrganizationSchema).ref(),
    endpoint: p.manyToOne(WebhookEndpointSchema).ref().deleteRule('cascade'),
    event: p.string().length(50),
    body: p.text(),
    status: p.enum(WEBHOOK_DELIVERY_STATUSES).default('pending'),
    attemptCount: p.integer().default(0),
    lastStatusCode: p.integer().nullable(),
    lastError: p.text().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()).defaultRaw('now()'),
    completedAt: p.datetime().nullable(),
  },
  indexes: [
    { name: 'webhook_deliveries_organization_id_index', properties: ['organization'] },
    { name: 'webhook_deliveries_endpoint_id_created_at_index', properties: ['endpoint', 'createdAt'] },
  ],
});

export type WebhookDelivery = InferEntity<typeof WebhookDeliverySchema>;

/** One HTTP attempt of a delivery, successful or not. */
export const WebhookAttemptSchema = defineEntity({
  name: 'WebhookAttempt',
  tableName: 'webhook_attempts',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()).defaultRaw('gen_random_uuid()'),
    delivery: p.manyToOne(WebhookDeliverySchema).ref().deleteRule('cascade'),
    attemptNumber: p.integer(),
    startedAt: p.datetime(),
    durationMs: p.integer(),
    statusCode: p.integer().nullable(),
    error: p.text().nullable(),
    succeeded: p.boolean(),
  },
  uniques: [{ name: 'webhook_attempts_delivery_id_attempt_number_unique', properties: ['delivery', 'attemptNumber'] }],
});

export type WebhookAttempt = InferEntity<typeof WebhookAttemptSchema>;
