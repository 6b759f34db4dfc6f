import { randomUUID } from 'node:crypto';
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { MediaFileSchema } from './media-file.js';
import { OrganizationSchema } from './organization.js';
import { UserSchema } from './user.js';

/**
 * Read access to one media file (and the results of its organization's jobs on it) granted to one
 * user or to a whole other organization. Exactly one grantee is set (checked by the share service).
 * `organization` is the owner's organization. Revoking deletes the row.
 */
export const MediaShareSchema = defineEntity({
  name: 'MediaShare',
  tableName: 'media_shares',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()).defaultRaw('gen_random_uuid()'),
    media: p.manyToOne(MediaFileSchema).ref().deleteRule('cascade'),
    organization: p.manyToOne(OrganizationSchema).ref(),
    granteeUser: p.manyToOne(UserSchema).ref().nullable().deleteRule('cascade'),
    granteeOrganization: p.manyToOne(OrganizationSchema).ref().nullable().deleteRule('cascade'),
    createdByUserId: p.uuid().nullable(),
    expiresAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()).defaultRaw('now()'),
  },
  indexes: [
    { name: 'media_shares_organization_id_index', properties: ['organization'] },
    { name: 'media_shares_grantee_user_id_index', properties: ['granteeUser'] },
    { name: 'media_shares_grantee_organization_id_index', properties: ['granteeOrganization'] },
  ],
  uniques: [
    { name: 'media_shares_media_id_grantee_user_id_unique', properties: ['media', 'granteeUser'] },
    { name: 'media_shares_media_id_grantee_organization_id_unique', properties: ['media', 'granteeOrganization'] },
  ],
});

export type MediaShare = InferEntity<typeof MediaShareSchema>;
