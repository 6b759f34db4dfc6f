import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { MediaUploadSchema, type DirectUploadMethod, type MediaUpload } from '#entities/index.js';
import { AppError, ConflictError, FileTooLargeError, InvalidFileTypeError, NotFoundError, ValidationError } from '#lib/errors.js';
import { incomingKey, type DirectUploadStorage } from '#lib/direct-upload-storage.js';
import type { Principal } from '../auth/principal.js';
import type { ApiDeps } from '../deps.js';
import type { MediaFileRow, MediaService } from './media-service.js';
import { DIRECT_UPLOAD_COMPLETE_GRACE_MS, type QuotaService } from './quota-service.js';

export interface PresignRequest {
  filename: string;
  sizeBytes: number;
  contentType: string;
  sha256: string;
  method: DirectUploadMethod;
}

export interface Presigned {
  upload: MediaUpload;
  url: string;
  fields: Record<string, string>;
}

/** The organization's limits for the upload (from its quotas). */
export interface DirectUploadLimits {
  maxFileSizeBytes?: number;
  retentionDays?: number;
}

// A client whose URL expired mid-transfer may still complete a little later.
const COMPLETE_GRACE_MS = DIRECT_UPLOAD_COMPLETE_GRACE_MS;

/**
 * Presigned uploads: the client writes to a temporary key, completion verifies the object
 * against the declaration (size, magic-byte type, SHA-256) while streaming it through the media
 * path into an ordinary media file, and the temporary object is removed in every outcome.
 */
export function createDirectUploadService(deps: ApiDeps, media: MediaService, incoming: DirectUploadStorage, quotas: QuotaService) {
  const { orm, config, clock, logger } = deps;
  const expirySeconds = config.intake.presignExpirySeconds;

  const declaredKind = (contentType: string): 'image' | 'audio' => (contentType.startsWith('audio/') ? 'audio' : 'image');

  const removeObject = (key: string) =>
    incoming.remove(key).catch((err) => logger.warn({ err, key }, 'could not remove a temporary upload object'));

  async function fail(upload: MediaUpload, error: AppError): Promise<never> {
    await removeObject(upload.storageKey);
    await orm.em
      .fork()
      .nativeUpdate(MediaUploadSchema, { id: upload.id }, { status: 'failed', errorCode: String(error.details.reason ?? error.code), errorMessage: error.message });
    throw error;
  }

  /** Uploads nobody completed: their objects are removed, their records failed (a few per call). */
  async function sweepAbandoned(): Promise<void> {
    const em = orm.em.fork();
    const stale = await em.find(
      MediaUploadSchema,
      { status: 'pending', expiresAt: { $lt: new Date(clock.now().getTime() - COMPLETE_GRACE_MS) } },
      { limit: 20 },
    );
    for (const upload of stale) {
      await removeObject(upload.storageKey);
      await em.nativeUpdate(MediaUploadSchema, { id: upload.id, status: 'pending' }, { status: 'failed', errorCode: 'expired', errorMessage: 'never completed' });
    }
  }

  return {
    async presign(principal: Principal, req: PresignRequest, limits: DirectUploadLimits): Promise<Presigned> {
      const kind = declaredKind(req.contentType);
      const maxBytes = Math.min(kind === 'image' ? config.media.image.maxFileSizeBytes : config.media.audio.maxFileSizeBytes, limits.maxFileSizeBytes ?? Infinity);
      if (req.sizeBytes > maxBytes) throw new FileTooLargeError(maxBytes);
      await sweepAbandoned().catch((err) => logger.warn({ err }, 'could not sweep abandoned direct uploads'));

      const id = randomUUID();
      const key = incomingKey(principal.organizationId, id);
      // PUT: the URL signs the declared Content-Length, so the store refuses any other size.
      const target =
        req.method === 'POST'
          ? await incoming.presignPost(key, req.sizeBytes, expirySeconds)
          : { url: await incoming.presignPut(key, req.sizeBytes, expirySeconds), fields: {} };
      // The pending upload holds its declared size of the storage quota from now on.
      const upload = await quotas.reserve(principal.organizationId, req.sizeBytes, 0, async (em) => {
        const row = em.create(MediaUploadSchema, {
          id,
          organization: principal.organizationId,
          userId: principal.userId,
          apiKeyId: principal.apiKeyId ?? null,
          filename: req.filename,
          contentType: req.contentType,
          sizeBytes: req.sizeBytes,
          sha256: req.sha256.toLowerCase(),
          method: req.method,
          storageKey: key,
          status: 'pending',
          expiresAt: new Date(clock.now().getTime() + expirySeconds * 1000),
        });
        await em.flush();
        return row;
      });
      return { upload, ...target };
    },

    async complete(organizationId: string, id: string, limits: DirectUploadLimits): Promise<MediaFileRow> {
      const em = orm.em.fork();
      const upload = await em.findOne(MediaUploadSchema, { id, organization: organizationId });
      if (!upload) throw new NotFoundError('Upload', id);
      if (upload.status === 'completed') return media.get(organizationId, id);
      if (upload.status === 'failed') throw refused(upload);
      if (upload.status === 'pending' && clock.now().getTime() > upload.expiresAt.getTime() + COMPLETE_GRACE_MS) {
        await fail(upload, new ConflictError('The upload expired before it was completed; start a new one', { reason: 'expired' }));
      }
      // One completion at a time: whoever moves pending → completing does the work.
      const taken = await em.nativeUpdate(MediaUploadSchema, { id, status: 'pending' }, { status: 'completing' });
      if (taken === 0) {
        const current = await orm.em.fork().findOneOrFail(MediaUploadSchema, { id });
        if (current.status === 'completed') return media.get(organizationId, id);
        if (current.status === 'failed') throw refused(current);
        throw new ConflictError('This upload is being completed by another request', { reason: 'in_progress' });
      }
      const reopen = () => em.nativeUpdate(MediaUploadSchema, { id, status: 'completing' }, { status: 'pending' });

      let size: number | null;
      try {
        size = await incoming.size(upload.storageKey);
      } catch (err) {
        await reopen();
        throw err;
      }
      if (size === null) {
        await reopen();
        throw new ValidationError('Nothing has been uploaded for this upload yet', { reason: 'object_missing' });
      }
      if (size !== upload.sizeBytes) {
        await fail(upload, new ValidationError(`The uploaded object is ${size} bytes; ${upload.sizeBytes} were declared`, {
          reason: 'size_mismatch',
          declared_size_bytes: upload.sizeBytes,
          actual_size_bytes: size,
        }));
      }

      const kind = declaredKind(upload.contentType);
      let source: Readable | undefined;
      try {
        source = await incoming.read(upload.storageKey);
        const stored = await media.upload(organizationId, source, upload.filename, {
          ...limits,
          id,
          userId: upload.userId ?? undefined,
          apiKeyId: upload.apiKeyId ?? undefined,
          accept: (type) => {
            if (type.mediaType !== kind) {
              throw new InvalidFileTypeError(`The uploaded file is ${type.mediaType} (${type.mimeType}); ${upload.contentType} was declared`, {
                reason: 'type_mismatch',
                declared_content_type: upload.contentType,
                detected_mime_type: type.mimeType,
              });
            }
          },
          verify: (_type, digest) => {
            if (digest.sha256 !== upload.sha256) {
              throw new ValidationError('The SHA-256 of the uploaded object differs from the declared one', {
                reason: 'checksum_mismatch',
                declared_sha256: upload.sha256,
                actual_sha256: digest.sha256,
              });
            }
          },
        });
        await em.nativeUpdate(MediaUploadSchema, { id }, { status: 'completed', errorCode: null, errorMessage: null });
        await removeObject(upload.storageKey);
        return stored;
      } catch (err) {
        source?.destroy();
        // A refusal is final; anything else (storage or database trouble) may be retried.
        if (err instanceof AppError && err.status < 500) return fail(upload, err);
        await reopen();
        throw err;
      }
    },
  };
}

function refused(upload: MediaUpload): ConflictError {
  return new ConflictError('This upload failed; start a new one', { reason: upload.errorCode, message: upload.errorMessage });
}

export type DirectUploadService = ReturnType<typeof createDirectUploadService>;
