import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { MediaFileSchema } from '#entities/index.js';
import { AppError, ConflictError, NotFoundError } from '#lib/errors.js';
import type { Principal } from '../auth/principal.js';
import type { ApiDeps } from '../deps.js';
import type { MediaFileRow, MediaService } from './media-service.js';

export interface Thumbnail {
  body: Readable;
  size: number;
  mimeType: 'image/jpeg';
}

/** How long a request for a thumbnail still being made waits for it before answering 409. */
const PENDING_WAIT_MS = 10_000;
const POLL_MS = 150;
/** What a 409 suggests as Retry-After, in seconds. */
export const THUMBNAIL_RETRY_AFTER_S = 2;

/** A thumbnail not made yet: the request may be repeated after Retry-After. */
export class ThumbnailPendingError extends ConflictError {
  constructor(id: string) {
    super('The thumbnail is still being made: retry shortly', { resource: 'Thumbnail', id, thumbnail_status: 'pending' });
  }
}

/**
 * Thumbnails of image media are made by the worker when the upload completes (activities/thumbnail.ts)
 * and only served here, from storage: a request never decodes or copies the original. One asked
 * for before it is ready waits briefly for it; one that could not be made is 404 with the reason,
 * recorded once and not tried again.
 */
export function createThumbnailService(deps: ApiDeps, media: MediaService) {
  const { orm, storage } = deps;

  const state = (id: string, organizationId: string) =>
    orm.em.fork().findOne(MediaFileSchema, { id, organization: organizationId }, { fields: ['thumbnailStatus', 'thumbnailPath', 'thumbnailError'] });

  async function serve(row: Pick<MediaFileRow, 'id' | 'thumbnailPath'>): Promise<Thumbnail | undefined> {
    if (!row.thumbnailPath) return undefined;
    const stored = await storage.stat(row.thumbnailPath);
    if (!stored) return undefined;
    return { body: await storage.get(row.thumbnailPath), size: stored.size, mimeType: 'image/jpeg' };
  }

  function failed(row: Pick<MediaFileRow, 'id' | 'thumbnailError'>): AppError {
    const reason = row.thumbnailError ?? 'the image could not be decoded';
    return new AppError(404, 'NOT_FOUND', `No thumbnail: it could not be made (${reason})`, {
      resource: 'Thumbnail',
      id: row.id,
      thumbnail_status: 'failed',
      reason,
    });
  }

  return {
    /** The thumbnail of a media file the caller may read (its organization's, or shared with it). */
    async open(principal: Principal, id: string): Promise<Thumbnail> {
      const row = await media.getReadable(principal, id);
      if (row.mediaType !== 'image') throw new NotFoundError('Thumbnail', id);
      const organizationId = row.organization.id;
      if (row.thumbnailStatus === 'failed') throw failed(row);
      let lost = false;
      if (row.thumbnailStatus === 'ready') {
        const thumbnail = await serve(row);
        if (thumbnail) return thumbnail;
        lost = true;
      }
      // Never asked for (an image stored before thumbnails were made at upload, or a job's result),
      // its start missed while Temporal was away, or its object lost: (re)start it.
      if (row.thumbnailStatus !== 'pending') {
        await orm.em.fork().nativeUpdate(MediaFileSchema, { id, organization: organizationId }, { thumbnailStatus: 'pending', thumbnailPath: null });
      }
      await media.requestThumbnail(id, organizationId, lost ? 'redo' : 'first');
      const deadline = Date.now() + PENDING_WAIT_MS;
      while (Date.now() < deadline) {
        await sleep(POLL_MS);
        const now = await state(id, organizationId);
        if (!now) throw new NotFoundError('Media file', id);
        if (now.thumbnailStatus === 'failed') throw failed({ id, thumbnailError: now.thumbnailError });
        if (now.thumbnailStatus === 'ready') {
          const thumbnail = await serve({ id, thumbnailPath: now.thumbnailPath });
          if (thumbnail) return thumbnail;
        }
      }
      throw new ThumbnailPendingError(id);
    },
  };
}

export type ThumbnailService = ReturnType<typeof createThumbnailService>;
