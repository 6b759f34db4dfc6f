import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { MediaFileSchema, type MediaFile } from '#entities/index.js';
import { startThumbnail } from '#domain/thumbnails.js';
import { AppError, NotFoundError } from '#lib/errors.js';
import type { Principal } from '../auth/principal.js';
import type { ApiDeps } from '../deps.js';
import { inspectorFor } from '#domain/media/inspect.js';
import { createMediaStore, type StoreOptions } from '#domain/media/media-store.js';
import { hasActiveShare } from './share-access.js';

export type MediaFileRow = MediaFile;
export { safeFilename, type UploadContext } from '#domain/media/media-store.js';

const THUMBNAIL_START_WAIT_MS = 2_000;

export function createMediaService(deps: ApiDeps) {
  const { orm, storage, config, clock } = deps;
  const mediaStore = createMediaStore({
    orm,
    storage,
    clock,
    limits: { imageMaxBytes: config.media.image.maxFileSizeBytes, audioMaxBytes: config.media.audio.maxFileSizeBytes, retentionDays: config.media.retentionDays },
    inspect: inspectorFor(config),
    onImageStored: (media) => requestThumbnail(media.id, media.organization.id),
  });
  /**
   * Starts the worker's thumbnail of a stored image. The upload never waits long for Temporal, nor
   * fails for it: a thumbnail not started here is started when it is first requested.
   */
  async function requestThumbnail(mediaId: string, organizationId: string, mode: 'first' | 'redo' = 'first'): Promise<void> {
    const started = startThumbnail(deps.temporal, config.temporal.taskQueue, { mediaId, organizationId }, mode).catch((err: unknown) => {
      deps.logger.warn({ err, mediaId }, 'thumbnail not started; it starts when first requested');
    });
    await Promise.race([started, sleep(THUMBNAIL_START_WAIT_MS)]);
  }

  const store = (organizationId: string, stream: Readable, originalFilename: string, by: StoreOptions = {}) =>
    mediaStore.store(organizationId, stream, originalFilename, by);

  return {
    requestThumbnail,

    async upload(organizationId: string, stream: Readable, originalFilename: string, by: StoreOptions = {}): Promise<MediaFileRow> {
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

    /**
     * A media file the caller may read: one of its organization's, or one shared with the caller
     * (or the caller's organization) by an active share. Anything else is 404, as for an unknown id.
     */
    async getReadable(principal: Principal, id: string): Promise<MediaFileRow> {
      const em = orm.em.fork();
      const media = await em.findOne(MediaFileSchema, { id, status: { $ne: 'deleted' }, expiresAt: { $gt: clock.now() } });
      if (!media) throw new NotFoundError('Media file', id);
      if (media.organization.id === principal.organizationId) return media;
      if (await hasActiveShare(em, principal, id, clock.now())) return media;
      throw new NotFoundError('Media file', id);
    },

    async open(media: MediaFileRow): Promise<Readable> {
      return storage.get(media.storagePath);
    },
  };
}

export type MediaService = ReturnType<typeof createMediaService>;
