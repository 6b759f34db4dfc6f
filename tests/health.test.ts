import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '#api/app.js';
import { trace } from '@opentelemetry/api';
import { createLogger } from '#lib/logger.js';
import { createMetrics } from '#lib/metrics.js';
import { createStorage } from '#lib/storage.js';
import { startHarness, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

test('health is 503 in the error format, naming the dependency that is down', async () => {
  // Storage aimed at a port where nothing listens.
  const storage = createStorage({ ...h.config.s3, endpoint: new URL('http://127.0.0.1:9') });
  const app = createApp({
    ...h.common,
    storage,
    config: h.config,
    temporal: h.temporal,
    logger: createLogger('silent', 'test'),
    clock: { now: () => new Date() },
    metrics: createMetrics('api'),
    tracer: trace.getTracer('test'),
  });
  const server = createServer(app.callback()).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  try {
    for (const path of ['/api/v1/health', '/api/v1/health/ready']) {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`);
      expect(res.status).toBe(503);
      const text = await res.text();
      const body = JSON.parse(text) as { error: { code: string; details: { checks: Record<string, { status: string }> } } };
      expect(body.error.code).toBe('SERVICE_UNAVAILABLE');
      expect(body.error.details.checks).toMatchObject({ database: { status: 'up' }, temporal: { status: 'up' }, storage: { status: 'down', error: 'unavailable' } });
      // Public replies: nothing of the driver's message (host, port, error code) gets out.
      // The dead endpoint is 127.0.0.1:9; a latency of 9 ms ("latency_ms":9) is not it.
      expect(text).not.toMatch(/127\.0\.0\.1|[^"]:9\b|ECONNREFUSED|connect/i);
    }
  } finally {
    server.close();
  }
});
