import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { MediaFileSchema } from '#entities/index.js';
import { keys } from '#lib/storage.js';
import type { ThumbnailInput, ThumbnailOutcome } from '#workflows/thumbnail.js';
import { decodeImage, encodeImage, render } from '#domain/media/sharp-io.js';
import { ActionError, INVALID_INPUT } from '#domain/actions/types.js';
import type { ActivityDeps } from './deps.js';

/** The thumbnail box of §6.2, unless configured otherwise (THUMBNAIL_*). */
export const DEFAULT_THUMBNAIL = { width: 200, height: 200, quality: 80 };
// Far inside the activity's two minutes, however complex the image.
const DECODE_TIMEOUT_MS = 60_000;

/**
 * The thumbnail of an uploaded image, made once by the worker: the original decoded with the image
 * actions' limits, fitted inside the box (upright, never enlarged, transparency on white), stored
 * beside the original and recorded on the media file. An image that cannot be decoded is recorded
 * as failed with the reason, and is not tried again.
 */
export function createThumbnailActivities(deps: ActivityDeps) {
  const box = deps.thumbnail ?? DEFAULT_THUMBNAIL;
  return {
    async makeThumbnail(input: ThumbnailInput): Promise<ThumbnailOutcome> {
      const where = { id: input.mediaId, organization: input.organizationId };
      const row = await deps.orm.em.fork().findOne(MediaFileSchema, { ...where, status: { $ne: 'deleted' } });
      if (!row || row.mediaType !== 'image') return 'gone';
      if (row.thumbnailStatus === 'ready' && row.thumbnailPath) return 'ready';
      if (row.thumbnailStatus === 'failed') return 'failed';
      const dir = await mkdtemp(join(deps.tmpDir, 'thumb-'));
      let bytes: Buffer;
      try {
        const path = join(dir, 'original');
        await pipeline(await deps.storage.get(row.storagePath), createWriteStream(path));
        const { image } = await decodeImage(path, deps.limits, { timeoutMs: DECODE_TIMEOUT_MS });
        const thumb = image.resize(box.width, box.height, { fit: 'inside', withoutEnlargement: true });
        encodeImage(thumb, 'jpeg', { quality: box.quality });
        bytes = await render(thumb.toBuffer());
      } catch (err) {
        if (!(err instanceof ActionError) || err.type !== INVALID_INPUT) throw err;
        const reason = err.message.slice(0, 500);
        await deps.orm.em.fork().nativeUpdate(MediaFileSchema, where, { thumbnailStatus: 'failed', thumbnailError: reason });
        deps.logger.info({ mediaId: input.mediaId, reason }, 'thumbnail failed: the image does not decode');
        return 'failed';
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      const key = keys.thumbnail(input.organizationId, input.mediaId);
      await deps.storage.put(key, bytes, 'image/jpeg');
      const recorded = await deps.orm.em
        .fork()
        .nativeUpdate(MediaFileSchema, { ...where, status: { $ne: 'deleted' } }, { thumbnailStatus: 'ready', thumbnailPath: key, thumbnailError: null });
      // Deleted while it was being made: the object would outlive its media file.
      if (recorded === 0) {
        await deps.storage.remove(key);
        return 'gone';
      }
      return 'ready';
    },
  };
}
