import type { Metrics } from '#lib/metrics.js';
import type { AppMiddleware } from '../handler.js';

/** Counts and times every request by route template (never the raw path, which has ids). */
export function httpMetrics(metrics: Metrics): AppMiddleware {
  return async function httpMetrics(ctx, next) {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? (ctx.path.startsWith('/docs') ? '/docs' : 'unmatched');
      const labels = { method: ctx.method, route: String(route), status: String(ctx.status) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
}
