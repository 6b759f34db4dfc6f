import { randomUUID } from 'node:crypto';
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { OrganizationSchema } from './organization.js';
import { UserSchema } from './user.js';
import { credentialTrigger } from './credential-triggers.js';

export const API_KEY_STATUSES = ['active', 'revoked'] as const;
export type ApiKeyStatus = (typeof API_KEY_STATUSES)[number];

/**
 * A programmatic credential. Only the key's SHA-256 is stored. After a rotation the previous
 * hash stays valid until `previousKeyExpiresAt` (a grace period chosen by the caller).
 */
export const ApiKeySchema = defineEntity({
  name: 'ApiKey',
  tableName: 'api_keys',
  triggers: [credentialTrigger('api_keys')],
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()).defaultRaw('gen_random_uuid()'),
    organization: p.manyToOne(OrganizationSchema).ref(),
    createdBy: p.manyToOne(UserSchema).ref(),
    name: p.string().length(100),
    keyPreview: p.string().length(32),
    keyHash: p.string().length(64).unique('api_keys_key_hash_unique').lazy(),
    previousKeyHash: p.string().length(64).nullable().index('api_keys_previous_key_hash_index').lazy(),
    previousKeyExpiresAt: p.datetime().nullable(),
    permissions: p.json<string[]>().columnType('jsonb').onCreate(() => []).defaultRaw(`'[]'`),
    rateLimits: p.json<{ requests_per_minute?: number; daily_quota?: number }>().columnType('jsonb').onCreate(() => ({})).defaultRaw(`'{}'`),
    status: p.enum(API_KEY_STATUSES).default('active'),
    expiresAt: p.datetime().nullable(),
    lastUsedAt: p.datetime().nullable(),
    /** Requests made with the key, counted with the usage rows (in batches, see api/services/usage-buffer.ts). */
    usageCount: p.bigint('number').default(0),
    revokedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()).defaultRaw('now()'),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()).defaultRaw('now()'),
  },
  indexes: [{ name: 'api_keys_organization_id_index', properties: ['organization'] }],
});

export type ApiKey = InferEntity<typeof ApiKeySchema>;
