import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { extname, join, normalize } from 'node:path';
import type { AppMiddleware } from './handler.js';

const require = createRequire(import.meta.url);
const ASSETS = join(require.resolve('swagger-ui-dist/package.json'), '..');
const SERVED = new Set(['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'favicon-32x32.png']);
const TYPES: Record<string, string> = { '.css': 'text/css', '.js': 'text/javascript', '.png': 'image/png' };

const page = () => `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Mediaflow API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <link rel="icon" href="/docs/assets/favicon-32x32.png">
</head>
<body>
  <div id="docs"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/docs-init.js"></script>
</body>
</html>`;

// Inline scripts would need a looser CSP; the initialiser is served like any other asset.
const init = (specUrl: string) => `window.ui = SwaggerUIBundle({ url: ${JSON.stringify(specUrl)}, dom_id: '#docs', deepLinking: true });\n`;

/** The human docs page at /docs, with Swagger UI's assets served from the npm package. */
export function docs(specUrl: string): AppMiddleware {
  return async function docs(ctx, next) {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === '/docs' || ctx.path === '/docs/') {
      ctx.type = 'text/html';
      ctx.set('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'");
      ctx.body = page();
      return;
    }
    if (ctx.path === '/docs/assets/docs-init.js') {
      ctx.type = 'text/javascript';
      ctx.body = init(specUrl);
      return;
    }
    const name = ctx.path.startsWith('/docs/assets/') ? normalize(ctx.path.slice('/docs/assets/'.length)) : '';
    if (!SERVED.has(name)) return next();
    const file = join(ASSETS, name);
    ctx.type = TYPES[extname(name)] ?? 'application/octet-stream';
    ctx.length = (await stat(file)).size;
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = createReadStream(file);
  };
}
