import { randomUUID } from 'node:crypto';
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { OrganizationSchema } from './organization.js';
import { credentialTrigger } from './credential-triggers.js';

export const USER_ROLES = ['owner', 'admin', 'member'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export const USER_STATUSES = ['active', 'invited', 'suspended', 'removed'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

/**
 * A person who signs in. Emails are unique across organizations (stored lower-cased) so that
 * login needs no organization. An invited user has no password until the invitation is accepted.
 */
export const UserSchema = defineEntity({
  name: 'User',
  tableName: 'users',
  triggers: [credentialTrigger('users')],
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()).defaultRaw('gen_random_uuid()'),
    organization: p.manyToOne(OrganizationSchema).ref(),
    email: p.string().length(255).unique('users_email_unique'),
    passwordHash: p.text().nullable().lazy(),
    name: p.string().length(100),
    role: p.enum(USER_ROLES).default('member'),
    /**
     * Operator of the whole platform (/admin/*, the payload codec). Set only out of band
     * (`npm run admin:grant`, or PLATFORM_ADMIN_USER_IDS), never through the API nor by an email.
     */
    platformAdmin: p.boolean().default(false),
    status: p.enum(USER_STATUSES).default('active'),
    /** SHA-256 of the pending invitation token (the token itself is shown once to the inviter). */
    invitationTokenHash: p.string().length(64).nullable().unique('users_invitation_token_hash_unique').lazy(),
    invitationExpiresAt: p.datetime().nullable(),
    lastLoginAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()).defaultRaw('now()'),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()).defaultRaw('now()'),
  },
  indexes: [{ name: 'users_organization_id_index', properties: ['organization'] }],
});

export type User = InferEntity<typeof UserSchema>;
