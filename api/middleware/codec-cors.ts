import type { AppMiddleware } from '../handler.js';

/**
 * CORS for the codec endpoints only: the Temporal Web UI calls them from the operator's browser,
 * on its own origin. Other API routes are not meant for browsers on other origins.
 */
export function codecCors(allowedOrigins: string[], prefix = '/api/v1/codec/'): AppMiddleware {
  const allowed = new Set(allowedOrigins);
  return async function codecCors(ctx, next) {
    const origin = ctx.get('origin');
    if (!ctx.path.startsWith(prefix) || !origin || !allowed.has(origin)) return next();
    ctx.vary('Origin');
    ctx.set('Access-Control-Allow-Origin', origin);
    ctx.set('Access-Control-Allow-Credentials', 'true');
    if (ctx.method !== 'OPTIONS') return next();
    ctx.set('Access-Control-Allow-Methods', 'POST, OPTIONS');
    ctx.set('Access-Control-Allow-Headers', 'authorization, content-type, x-namespace');
    ctx.set('Access-Control-Max-Age', '600');
    ctx.status = 204;
  };
}
