import { createServer, type Server } from 'node:http';
import type { Metrics } from '#lib/metrics.js';

/**
 * The worker's own small HTTP server: `/metrics` (our registry, followed by the Temporal core's
 * Prometheus text when its exporter is on) and `/healthz` for a liveness probe.
 */
export function startWorkerHttp(port: number, metrics: Metrics, temporalMetricsUrl?: string): Promise<Server> {
  const server = createServer((req, res) => {
    const reply = (status: number, type: string, body: string) => res.writeHead(status, { 'content-type': type }).end(body);
    if (req.url === '/healthz') return reply(200, 'application/json', '{"status":"ok"}');
    if (req.url !== '/metrics') return reply(404, 'application/json', '{"error":{"code":"NOT_FOUND","message":"not found","details":{}}}');
    void (async () => {
      let body = await metrics.registry.metrics();
      if (temporalMetricsUrl) {
        body += await fetch(temporalMetricsUrl, { signal: AbortSignal.timeout(2_000) })
          .then((r) => r.text())
          .catch(() => '# Temporal core metrics unavailable\n');
      }
      reply(200, metrics.registry.contentType, body);
    })().catch(() => reply(500, 'text/plain', 'metrics unavailable\n'));
  });
  return new Promise((resolve, reject) => server.once('error', reject).listen(port, () => resolve(server)));
}
