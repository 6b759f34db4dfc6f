import { randomUUID } from 'node:crypto';
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { OrganizationSchema } from './organization.js';

export const STORED_KEY_PROVIDERS = ['openai', 'anthropic'] as const;
export type StoredKeyProvider = (typeof STORED_KEY_PROVIDERS)[number];

/**
 * An organization's own AI provider key, encrypted (AES-256-GCM under PROVIDER_KEYS_MASTER_KEYS,
 * see api/services/provider-key-service.ts). `ciphertext` is `iv‖ciphertext‖tag` (base64url);
 * `keyId` names the master key; `preview` is what may be shown (the last 4 characters).
 * Clearing the key deletes the row.
 */
export const OrganizationProviderKeySchema = defineEntity({
  name: 'OrganizationProviderKey',
  tableName: 'organization_provider_keys',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()).defaultRaw('gen_random_uuid()'),
    organization: p.manyToOne(OrganizationSchema).ref().deleteRule('cascade'),
    provider: p.enum(STORED_KEY_PROVIDERS),
    ciphertext: p.text(),
    keyId: p.string().length(32),
    preview: p.string().length(8),
    updatedAt: p.datetime().onCreate(() => new Date()).defaultRaw('now()'),
  },
  uniques: [{ name: 'organization_provider_keys_organization_id_provider_unique', properties: ['organization', 'provider'] }],
});

export type OrganizationProviderKey = InferEntity<typeof OrganizationProviderKeySchema>;
