import { randomUUID } from 'node:crypto';
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { OrganizationSchema } from './organization.js';

export const DIRECT_UPLOAD_METHODS = ['PUT', 'POST'] as const;
export type DirectUploadMethod = (typeof DIRECT_UPLOAD_METHODS)[number];

export const DIRECT_UPLOAD_STATUSES = ['pending', 'completing', 'completed', 'failed'] as const;
export type DirectUploadStatus = (typeof DIRECT_UPLOAD_STATUSES)[number];

/**
 * A presigned upload: the client sends the bytes straight to object storage under `storageKey`
 * (a temporary key), then completes it; the verified object becomes the media file whose id is
 * this upload's id. What was declared is kept so completion can check the object against it.
 */
export const MediaUploadSchema = defineEntity({
  name: 'MediaUpload',
  tableName: 'media_uploads',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()).defaultRaw('gen_random_uuid()'),
    organization: p.manyToOne(OrganizationSchema).ref(),
    userId: p.uuid().nullable(),
    apiKeyId: p.uuid().nullable(),
    filename: p.string().length(255),
    contentType: p.string().length(100),
    sizeBytes: p.bigint('number'),
    sha256: p.string().length(64),
    method: p.enum(DIRECT_UPLOAD_METHODS),
    storageKey: p.string().length(500),
    status: p.enum(DIRECT_UPLOAD_STATUSES).default('pending'),
    errorCode: p.string().length(50).nullable(),
    errorMessage: p.text().nullable(),
    expiresAt: p.datetime(),
    createdAt: p.datetime().onCreate(() => new Date()).defaultRaw('now()'),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()).defaultRaw('now()'),
  },
  indexes: [
    { name: 'media_uploads_organization_id_index', properties: ['organization'] },
    { name: 'media_uploads_status_expires_at_index', properties: ['status', 'expiresAt'] },
  ],
});

export type MediaUpload = InferEntity<typeof MediaUploadSchema>;
