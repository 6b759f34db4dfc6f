import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { OrganizationSchema } from './organization.js';

/** tus: resumable over the tus protocol; chunked: numbered chunks, then finalize; multipart: a plain upload followed for progress. */
export const UPLOAD_KINDS = ['tus', 'chunked', 'multipart'] as const;
export type UploadKind = (typeof UPLOAD_KINDS)[number];

export const UPLOAD_STATUSES = ['receiving', 'finalizing', 'completed', 'failed', 'expired'] as const;
export type UploadStatus = (typeof UPLOAD_STATUSES)[number];

/**
 * An upload on its way to becoming a media file. Owns its temporary parts in object storage
 * (under `uploads/`) until it completes or expires. `bytesReceived` is written at a throttled
 * rate while bytes stream in, so any API instance can report progress.
 * The id is a uuid for tus and chunked uploads, the client's `X-Upload-Id` for multipart ones.
 */
export const UploadSessionSchema = defineEntity({
  name: 'UploadSession',
  tableName: 'upload_sessions',
  properties: {
    id: p.string().length(64).primary(),
    organization: p.manyToOne(OrganizationSchema).ref(),
    userId: p.uuid().nullable(),
    apiKeyId: p.uuid().nullable(),
    kind: p.enum(UPLOAD_KINDS),
    filename: p.string().length(255),
    totalBytes: p.bigint('number').nullable(),
    bytesReceived: p.bigint('number').default(0),
    /** Chunked uploads: the chunk size every chunk but the last has, and how many there are. */
    chunkSize: p.bigint('number').nullable(),
    totalChunks: p.integer().nullable(),
    /** Chunked uploads: the SHA-256 the whole file must have (optional). */
    sha256: p.string().length(64).nullable(),
    /** The temporary object and its S3 multipart upload id (chunked uploads). */
    storageKey: p.string().length(500).nullable(),
    multipartUploadId: p.string().length(1024).nullable(),
    status: p.enum(UPLOAD_STATUSES).default('receiving'),
    mediaId: p.uuid().nullable(),
    errorCode: p.string().length(50).nullable(),
    errorMessage: p.text().nullable(),
    expiresAt: p.datetime(),
    createdAt: p.datetime().onCreate(() => new Date()).defaultRaw('now()'),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()).defaultRaw('now()'),
  },
  indexes: [
    { name: 'upload_sessions_organization_id_index', properties: ['organization'] },
    { name: 'upload_sessions_status_expires_at_index', properties: ['status', 'expiresAt'] },
  ],
});
export type UploadSession = InferEntity<typeof UploadSessionSchema>;

/** A received chunk of a chunked upload: stored as part `number + 1` of the session's S3 multipart upload. */
export const UploadChunkSchema = defineEntity({
  name: 'UploadChunk',
  tableName: 'upload_chunks',
  properties: {
    session: p.manyToOne(UploadSessionSchema).primary().deleteRule('cascade'),
    number: p.integer().primary(),
    sizeBytes: p.bigint('number'),
    sha256: p.string().length(64),
    /** Null while the part is being written to storage. */
    etag: p.string().length(255).nullable(),
    createdAt: p.datetime().onCreate(() => new Date()).defaultRaw('now()'),
  },
});
export type UploadChunk = InferEntity<typeof UploadChunkSchema>;
