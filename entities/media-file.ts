import { randomUUID } from 'node:crypto';
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { OrganizationSchema } from './organization.js';

export const MEDIA_TYPES = ['image', 'audio'] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

export const THUMBNAIL_STATUSES = ['pending', 'ready', 'failed'] as const;
export type ThumbnailStatus = (typeof THUMBNAIL_STATUSES)[number];

export const MEDIA_STATUSES = ['processing', 'ready', 'failed', 'deleted'] as const;
export type MediaStatus = (typeof MEDIA_STATUSES)[number];

/** An uploaded (or job-produced) file stored in object storage. */
export const MediaFileSchema = defineEntity({
  name: 'MediaFile',
  tableName: 'media_files',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()).defaultRaw('gen_random_uuid()'),
    organization: p.manyToOne(OrganizationSchema).ref(),
    // Plain columns until users / API keys exist (no FK yet).
    uploadedByUserId: p.uuid().nullable(),
    uploadedByApiKeyId: p.uuid().nullable(),
    originalFilename: p.string().length(255),
    storedFilename: p.string().length(255),
    mimeType: p.string().length(100),
    mediaType: p.enum(MEDIA_TYPES),
    /** bigint in the DB, JS number here (files are far below 2^53 bytes). */
    fileSizeBytes: p.bigint('number'),
    storagePath: p.string().length(500),
    thumbnailPath: p.string().length(500).nullable(),
    /** Images only: made by the worker when the upload completes (null: never asked for). */
    thumbnailStatus: p.enum(THUMBNAIL_STATUSES).nullable(),
    /** Why the thumbnail could not be made (the image does not decode), when it failed. */
    thumbnailError: p.string().length(500).nullable(),
    metadata: p.json<Record<string, unknown>>().columnType('jsonb').onCreate(() => ({})).defaultRaw(`'{}'`),
    checksumMd5: p.string().length(32),
    checksumSha256: p.string().length(64),
    status: p.enum(MEDIA_STATUSES).default('processing'),
    expiresAt: p.datetime(),
    createdAt: p.datetime().onCreate(() => new Date()).defaultRaw('now()'),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()).defaultRaw('now()'),
  },
  indexes: [
    { name: 'media_files_organization_id_media_type_index', properties: ['organization', 'mediaType'] },
    { name: 'media_files_expires_at_index', properties: ['expiresAt'] },
  ],
});

export type MediaFile = InferEntity<typeof MediaFileSchema>;
