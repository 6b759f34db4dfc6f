import { randomUUID } from 'node:crypto';
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { OrganizationSchema } from './organization.js';

export const WEBHOOK_ENDPOINT_STATUSES = ['active', 'disabled'] as const;
export type WebhookEndpointStatus = (typeof WEBHOOK_ENDPOINT_STATUSES)[number];

/**
 * Where an organization wants job events delivered. The signing secret is stored encrypted
 * (lib/webhooks/secret-box.ts): deliveries need it back to sign. After a rotation the previous
 * secret also signs until `previousSecretExpiresAt`.
 */
export const WebhookEndpointSchema = defineEntity({
  name: 'WebhookEndpoint',
  tableName: 'webhook_endpoints',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()).defaultRaw('gen_random_uuid()'),
    organization: p.manyToOne(OrganizationSchema).ref(),
    url: p.string().length(2048),
    description: p.string().length(255).nullable(),
    events: p.json<string[]>().columnType('jsonb').onCreate(() => []).defaultRaw(`'[]'`),
    status: p.enum(WEBHOOK_ENDPOINT_STATUSES).default('active'),
    disabledReason: p.string().length(255).nullable(),
    secretSealed: p.text().lazy(),
    previousSecretSealed: p.text().nullable().lazy(),
    previousSecretExpiresAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()).defaultRaw('now()'),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()).defaultRaw('now()'),
  },
  indexes: [{ name: 'webhook_endpoints_organization_id_index', properties: ['organization'] }],
});

export type WebhookEndpoint = InferEntity<typeof WebhookEndpointSchema>;
