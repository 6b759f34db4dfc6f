import type { Route } from '../handler.js';
import type { Services } from '../services/index.js';
import { THUMBNAIL_RETRY_AFTER_S, ThumbnailPendingError } from '../services/thumbnail-service.js';

export const getMediaThumbnail = (s: Services): Route<'getMediaThumbnail'> => ({
  async handle(ctx, { path }) {
    const thumbnail = await s.thumbnails.open(ctx.state.principal!, path.id).catch((err: unknown) => {
      if (err instanceof ThumbnailPendingError) ctx.set('Retry-After', String(THUMBNAIL_RETRY_AFTER_S));
      throw err;
    });
    ctx.type = thumbnail.mimeType;
    ctx.length = thumbnail.size;
    // The original never changes, so neither does its thumbnail.
    ctx.set('Cache-Control', 'private, max-age=86400');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.body = thumbnail.body;
  },
});
