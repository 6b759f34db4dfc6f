import { randomUUID } from 'node:crypto';
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { UserSchema } from './user.js';
import { credentialTrigger } from './credential-triggers.js';

/**
 * One refresh token (only its SHA-256 is stored). Tokens rotated from one login share a
 * `familyId`: the family is the session. A token used twice revokes its whole family.
 */
export const RefreshTokenSchema = defineEntity({
  name: 'RefreshToken',
  tableName: 'refresh_tokens',
  triggers: [credentialTrigger('refresh_tokens')],
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()).defaultRaw('gen_random_uuid()'),
    user: p.manyToOne(UserSchema).ref().deleteRule('cascade'),
    familyId: p.uuid(),
    tokenHash: p.string().length(64).unique('refresh_tokens_token_hash_unique'),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
    revokedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()).defaultRaw('now()'),
  },
  indexes: [
    { name: 'refresh_tokens_user_id_index', properties: ['user'] },
    { name: 'refresh_tokens_family_id_index', properties: ['familyId'] },
  ],
});

export type RefreshToken = InferEntity<typeof RefreshTokenSchema>;
