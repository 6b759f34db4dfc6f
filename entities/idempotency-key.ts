import { randomUUID } from 'node:crypto';
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { OrganizationSchema } from './organization.js';

export const IDEMPOTENCY_STATES = ['running', 'done'] as const;

/**
 * The first response to a request carrying an Idempotency-Key, per organization, for 24 hours.
 * `fingerprint` says what the request was (operation + body digest); it is null while an upload
 * runs, because an upload's digest is only known once the file has been stored.
 */
export const IdempotencyKeySchema = defineEntity({
  name: 'IdempotencyKey',
  tableName: 'idempotency_keys',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()).defaultRaw('gen_random_uuid()'),
    organization: p.manyToOne(OrganizationSchema).ref(),
    key: p.string().length(255),
    operation: p.string().length(100),
    fingerprint: p.string().length(64).nullable(),
    state: p.enum(IDEMPOTENCY_STATES).default('running'),
    responseStatus: p.integer().nullable(),
    responseHeaders: p.json<Record<string, string>>().columnType('jsonb').nullable(),
    responseBody: p.json<unknown>().columnType('jsonb').nullable(),
    createdAt: p.datetime().onCreate(() => new Date()).defaultRaw('now()'),
    expiresAt: p.datetime().index('idempotency_keys_expires_at_index'),
  },
  uniques: [{ name: 'idempotency_keys_organization_id_key_unique', properties: ['organization', 'key'] }],
});

export type IdempotencyKey = InferEntity<typeof IdempotencyKeySchema>;
