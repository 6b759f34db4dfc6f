import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { MediaFileSchema, type MediaFile } from '../../entities/index.js';
import { AppError, NotFoundError } from '../../lib/errors.js';
import { keys } from '../../lib/storage.js';
import type { ApiDeps } from '../deps.js';
import { ingest } from './ingest.js';

export type MediaFileRow = MediaFile;

/** Who uploads, and the organization's limits for the upload (from its quotas). */
export interface UploadContext {
  userId?: string;
  apiKeyId?: string;
  maxFileSizeBytes?: number;
  retentionDays?: number;
}

export function createMediaService(deps: ApiDeps) {
  const { orm, storage, config, clock } = deps;

  /** Streams an upload to storage, then records it; the object is removed if recording fails. */
  async function store(organizationId: string, stream: Readable, originalFilename: string, by: UploadContext = {}): Promise<MediaFileRow> {
    const id = randomUUID();
    const key = keys.original(organizationId, id);
    const { type, digest } = await ingest(storage, key, stream, {
      maxBytes: (t) =>
        Math.min(t.mediaType === 'image' ? config.media.image.maxFileSizeBytes : config.media.audio.maxFileSizeBytes, by.maxFileSizeBytes ?? Infinity),
    });
    const em = orm.em.fork();
    const now = clock.now();
    const media = em.create(MediaFileSchema, {
      id,
      organization: organizationId,
      uploadedByUserId: by.userId ?? null,
      uploadedByApiKeyId: by.apiKeyId ?? null,
      originalFilename: safeFilename(originalFilename, type.extension),
      storedFilename: 'original',
      mimeType: type.mimeType,
      mediaType: type.mediaType,
      fileSizeBytes: digest.size,
      storagePath: key,
      checksumMd5: digest.md5,
      checksumSha256: digest.sha256,
      status: 'ready',
      metadata: {},
      expiresAt: new Date(now.getTime() + (by.retentionDays ?? config.media.retentionDays) * 86_400_000),
    });
    try {
      await em.flush();
    } catch (err) {
      await storage.remove(key).catch(() => undefined);
      throw err;
    }
    return media;
  }

  return {
    async upload(organizationId: string, stream: Readable, originalFilename: string, by: UploadContext = {}): Promise<MediaFileRow> {
      const done = deps.metrics.uploadDuration.startTimer();
      try {
        const media = await store(organizationId, stream, originalFilename, by);
        deps.metrics.uploadBytes.inc({ media_type: media.mediaType }, media.fileSizeBytes);
        return media;
      } catch (err) {
        deps.metrics.uploadErrors.inc({ code: err instanceof AppError ? err.code : 'INTERNAL_ERROR' });
        throw err;
      } finally {
        done();
      }
    },

    async get(organizationId: string, id: string): Promise<MediaFileRow> {
      const media = await orm.em.fork().findOne(MediaFileSchema, {
        id,
        organization: organizationId,
        status: { $ne: 'deleted' },
        expiresAt: { $gt: clock.now() },
      });
      if (!media) throw new NotFoundError('Media file', id);
      return media;
    },

    async open(media: MediaFileRow): Promise<Readable> {
      return storage.get(media.storagePath);
    },
  };
}

export type MediaService = ReturnType<typeof createMediaService>;

// Names come from clients: keep them printable, bounded, and never a path.
export function safeFilename(name: string, extension: string): string {
  const base = (name.split(/[\\/]/).pop() ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return (base || `upload.${extension}`).slice(0, 255);
}
