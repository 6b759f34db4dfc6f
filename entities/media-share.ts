import { randomUUID } from 'node:crypto';
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { MediaFileSchema } from './media-file.js';
import { OrganizationSchema } from './organization.js';

/**
 * Read access to one media file (and the results of its organization's jobs on it) granted to one
 * user or to a whole other organization. Exactly one grantee is set (checked by the share service).
 * `organization` is the owner's organization. Revoking deletes the row. The grantee ids are plain
 * columns, not foreign keys: a share to an id that names nobody is recorded like any other, so
 * sharing cannot be used to learn which user or organization ids exist (users and organizations
 * are never deleted, only marked, so nothing is left dangling).
 */
export const MediaShareSchema = defineEntity({
  name: 'MediaShare',
  tableName: 'media_shares',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()).defaultRaw('gen_random_uuid()'),
    media: p.manyToOne(MediaFileSchema).ref().deleteRule('cascade'),
    organization: p.manyToOne(OrganizationSchema).ref(),
    granteeUserId: p.uuid().nullable(),
    granteeOrganizationId: p.uuid().nullable(),
    createdByUserId: p.uuid().nullable(),
    expiresAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()).defaultRaw('now()'),
  },
  indexes: [
    { name: 'media_shares_organization_id_index', properties: ['organization'] },
    { name: 'media_shares_grantee_user_id_index', properties: ['granteeUserId'] },
    { name: 'media_shares_grantee_organization_id_index', properties: ['granteeOrganizationId'] },
  ],
  uniques: [
    { name: 'media_shares_media_id_grantee_user_id_unique', properties: ['media', 'granteeUserId'] },
    { name: 'media_shares_media_id_grantee_organization_id_unique', properties: ['media', 'granteeOrganizationId'] },
  ],
});

export type MediaShare = InferEntity<typeof MediaShareSchema>;
