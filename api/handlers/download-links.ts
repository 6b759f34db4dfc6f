import { reply, type Route } from '../handler.js';
import { jsonBody } from '../middleware/body.js';
import type { Services } from '../services/index.js';

export const createDownloadLink = (s: Services, baseUrl: string, bodyLimitKb: number): Route<'createDownloadLink'> => ({
  before: [jsonBody(bodyLimitKb)],
  async handle(ctx, { path, body }) {
    const link = await s.downloadLinks.create(ctx.state.principal!, path.id, body.expires_in);
    reply(ctx, 'createDownloadLink', 201, { url: `${baseUrl}${link.path}`, expires_at: link.expiresAt.toISOString() });
  },
});

export const downloadSharedMedia = (s: Services): Route<'downloadSharedMedia'> => ({
  async handle(ctx, { path }) {
    const { media, body } = await s.downloadLinks.open(path.token);
    ctx.attachment(media.originalFilename);
    ctx.type = media.mimeType;
    ctx.length = media.fileSizeBytes;
    ctx.set('X-Content-Type-Options', 'nosniff');
    // The URL is the credential: keep it out of caches and out of Referer headers.
    ctx.set('Cache-Control', 'private, no-store');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.body = body;
  },
});
