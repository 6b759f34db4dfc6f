import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decodeImage, encodeImage, render } from '#domain/media/sharp-io.js';
import { ActionError } from '#domain/actions/types.js';
import { MediaFileSchema } from '../../entities/index.js';
import { InvalidFileTypeError, NotFoundError } from '../../lib/errors.js';
import { keys } from '../../lib/storage.js';
import type { Principal } from '../auth/principal.js';
import type { ApiDeps } from '../deps.js';
import type { MediaFileRow, MediaService } from './media-service.js';

export interface Thumbnail {
  body: Readable | Buffer;
  size: number;
  mimeType: 'image/jpeg';
}

/**
 * Thumbnails of image media: made on first request from the original (decoded with the same
 * limits as the image actions), stored next to it and recorded in media_files.thumbnail_path,
 * then streamed from storage. Two first requests at once both render and store the same object.
 */
export function createThumbnailService(deps: ApiDeps, media: MediaService) {
  const { orm, storage, config } = deps;

  async function makeThumbnail(row: MediaFileRow): Promise<Buffer> {
    // The original goes to a private file rather than memory: it may be tens of megabytes.
    const dir = await mkdtemp(join(config.worker.tmpDir, 'thumb-'));
    try {
      const path = join(dir, 'original');
      await pipeline(await storage.get(row.storagePath), createWriteStream(path));
      // A request should not hold a libuv thread for long, however complex the image.
      const { image } = await decodeImage(path, { image: { maxResolution: config.media.image.maxResolution } }, { timeoutMs: 30_000 });
      const { width, height, quality } = config.media.image.thumbnail;
      const thumb = image.resize(width, height, { fit: 'inside', withoutEnlargement: true });
      encodeImage(thumb, 'jpeg', { quality });
      return await render(thumb.toBuffer());
    } catch (err) {
      if (err instanceof ActionError) {
        throw new InvalidFileTypeError(`The stored file cannot be made into a thumbnail: ${err.message}`, { media_id: row.id });
      }
      throw err;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  return {
    /** The thumbnail of a media file the caller may read (its organization's, or shared with it). */
    async open(principal: Principal, id: string): Promise<Thumbnail> {
      const row = await media.getReadable(principal, id);
      const organizationId = row.organization.id;
      if (row.mediaType !== 'image') throw new NotFoundError('Thumbnail', id);
      if (row.thumbnailPath) {
        const stored = await storage.stat(row.thumbnailPath);
        if (stored) return { body: await storage.get(row.thumbnailPath), size: stored.size, mimeType: 'image/jpeg' };
      }
      const bytes = await makeThumbnail(row);
      const key = keys.thumbnail(organizationId, id);
      await storage.put(key, bytes, 'image/jpeg');
      await orm.em.fork().nativeUpdate(MediaFileSchema, { id, organization: organizationId }, { thumbnailPath: key });
      return { body: bytes, size: bytes.length, mimeType: 'image/jpeg' };
    },
  };
}

export type ThumbnailService = ReturnType<typeof createThumbnailService>;
