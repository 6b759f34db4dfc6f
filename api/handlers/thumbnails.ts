import type { Route } from '../handler.js';
import type { Services } from '../services/index.js';

export const getMediaThumbnail = (s: Services): Route<'getMediaThumbnail'> => ({
  async handle(ctx, { path }) {
    const thumbnail = await s.thumbnails.open(ctx.state.principal!, path.id);
    ctx.type = thumbnail.mimeType;
    ctx.length = thumbnail.size;
    // The original never changes, so neither does its thumbnail.
    ctx.set('Cache-Control', 'private, max-age=86400');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.body = thumbnail.body;
  },
});
