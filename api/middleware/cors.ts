import type { AppMiddleware } from '../handler.js';

// What a browser on another origin may send and read: credentials go in headers (no cookies), so
// Access-Control-Allow-Credentials is never needed.
const ALLOW_HEADERS = [
  'authorization',
  'content-type',
  'x-api-key',
  'idempotency-key',
  'last-event-id',
  'x-openai-api-key',
  'x-anthropic-api-key',
  'x-upload-progress-id',
  'tus-resumable',
  'upload-length',
  'upload-offset',
  'upload-metadata',
  'upload-defer-length',
  'upload-checksum',
  'upload-concat',
  'x-http-method-override',
].join(', ');
const EXPOSE_HEADERS = [
  'x-request-id',
  'location',
  'content-disposition',
  'retry-after',
  'ratelimit',
  'ratelimit-policy',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'tus-resumable',
  'tus-version',
  'tus-extension',
  'tus-max-size',
  'upload-offset',
  'upload-length',
  'upload-expires',
  'mediaflow-media-id',
].join(', ');
const ALLOW_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

/**
 * CORS for /api/: origins in CORS_ALLOWED_ORIGINS (an organization's own front end) may call the
 * API from a browser; any other origin gets no CORS headers, so browsers keep it out. The API's
 * own origin (the console it serves) needs none.
 */
export function cors(allowedOrigins: string[], prefix = '/api/'): AppMiddleware {
  const allowed = new Set(allowedOrigins);
  return async function cors(ctx, next) {
    if (!ctx.path.startsWith(prefix)) return next();
    ctx.vary('Origin');
    const origin = ctx.get('origin');
    if (!origin || !allowed.has(origin)) return next();
    ctx.set('Access-Control-Allow-Origin', origin);
    if (ctx.method === 'OPTIONS' && ctx.get('access-control-request-method')) {
      ctx.set('Access-Control-Allow-Methods', ALLOW_METHODS);
      ctx.set('Access-Control-Allow-Headers', ALLOW_HEADERS);
      ctx.set('Access-Control-Max-Age', '600');
      ctx.status = 204;
      return;
    }
    ctx.set('Access-Control-Expose-Headers', EXPOSE_HEADERS);
    return next();
  };
}
