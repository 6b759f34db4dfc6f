import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { AppMiddleware } from './handler.js';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

// Paths that belong to the API and its docs: the console never answers them, whatever they are.
const RESERVED = /^\/(api|docs|metrics)(\/|$)/;

// Scripts and styles come from the console's own origin; blob: URLs carry previews fetched with
// the session's token (Recharts and Sonner set inline styles).
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

async function fileAt(root: string, urlPath: string): Promise<{ path: string; size: number } | undefined> {
  let rel: string;
  try {
    rel = normalize(decodeURIComponent(urlPath)).replace(/^([/\\])+/, '');
  } catch {
    return undefined;
  }
  const path = join(root, rel);
  if (!path.startsWith(root + sep)) return undefined;
  try {
    const s = await stat(path);
    return s.isFile() ? { path, size: s.size } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The web console (web/, built by Vite into `dir`): hashed files under /assets/ cached for a
 * year, other files briefly, and index.html, never cached, for every other GET a browser makes
 * for a page (the console routes in the browser). /api, /docs and /metrics are never answered here.
 */
export function webConsole(dir: string): AppMiddleware {
  const root = normalize(dir).replace(/[/\\]+$/, '');
  return async function webConsole(ctx, next) {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || RESERVED.test(ctx.path)) return next();
    const file = ctx.path === '/' ? undefined : await fileAt(root, ctx.path);
    if (file) {
      ctx.type = TYPES[extname(file.path)] ?? 'application/octet-stream';
      // The build writes a gzipped copy of each script and style beside it.
      const gz = ctx.acceptsEncodings('gzip', 'identity') === 'gzip' ? await fileAt(root, `${ctx.path}.gz`) : undefined;
      ctx.vary('Accept-Encoding');
      if (gz) ctx.set('Content-Encoding', 'gzip');
      const served = gz ?? file;
      ctx.length = served.size;
      ctx.set('Cache-Control', ctx.path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'public, max-age=300');
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.body = ctx.method === 'HEAD' ? null : createReadStream(served.path);
      return;
    }
    // A missing asset is a 404, not the page; so is anything but a browser's navigation (which asks for text/html).
    if (ctx.path.startsWith('/assets/') || extname(ctx.path) || !ctx.get('accept').includes('text/html')) return next();
    let html: string;
    try {
      html = await readFile(join(root, 'index.html'), 'utf8');
    } catch {
      if (ctx.path !== '/') return next();
      ctx.status = 503;
      ctx.type = 'text/plain';
      ctx.body = 'The web console is not built: run `npm start` (which builds it) or `npm run build -w web`.\n';
      return;
    }
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('Content-Security-Policy', CSP);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.body = html;
  };
}
