// OPS_PORT: /metrics and the health checks on a port of their own, and nowhere else — so an
// Ingress or load balancer routed to PORT cannot make them public, whatever paths it forwards.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { createApp } from '#api/app.js';
import { loadConfig } from '#lib/config.js';
import { createLogger } from '#lib/logger.js';
import { startHarness, type Harness } from './support/harness.js';

let h: Harness;
let publicUrl: string;
let opsUrl: string;
const servers: Server[] = [];
const OPS = ['/metrics', '/api/v1/health', '/api/v1/health/live', '/api/v1/health/ready'];

async function listen(): Promise<{ server: Server; url: string; port: number }> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, port };
}

beforeAll(async () => {
  h = await startHarness();
  const [main, ops] = [await listen(), await listen()];
  const config = { ...h.config, http: { ...h.config.http, opsPort: ops.port } };
  const app = createApp({ ...h.common, config, temporal: h.temporal, logger: createLogger('silent', 't'), clock: { now: () => new Date() }, metrics: h.metrics, tracer: trace.getTracer('t') });
  for (const { server } of [main, ops]) server.on('request', app.callback());
  publicUrl = main.url;
  opsUrl = ops.url;
});
afterAll(async () => {
  for (const s of servers) s.close();
  await h?.stop();
});

test.each(OPS)('%s is answered on OPS_PORT only', async (path) => {
  const onOps = await fetch(`${opsUrl}${path}`);
  expect(onOps.status).toBe(200);
  await onOps.arrayBuffer();
  const onPublic = await fetch(`${publicUrl}${path}`);
  expect(onPublic.status).toBe(404);
  expect(((await onPublic.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
});

test('OPS_PORT answers nothing else; PORT answers the API as before', async () => {
  for (const path of ['/api/v1/openapi.json', '/api/v1/actions', '/']) expect([path, (await fetch(`${opsUrl}${path}`)).status]).toEqual([path, 404]);
  expect((await fetch(`${publicUrl}/api/v1/openapi.json`)).status).toBe(200);
  // A trailing slash or a proxy's Host header does not reach them either.
  expect((await fetch(`${publicUrl}/metrics/`)).status).toBe(404);
  expect((await fetch(`${publicUrl}/metrics`, { headers: { host: `127.0.0.1:${new URL(opsUrl).port}` } })).status).toBe(404);
});

test('unset, everything stays on PORT; OPS_PORT must differ from PORT', async () => {
  expect(loadConfig({}).http.opsPort).toBe(0);
  expect((await h.as({}).fetch('/metrics')).status).toBe(200);
  expect(() => loadConfig({ PORT: '3000', OPS_PORT: '3000' })).toThrow(/OPS_PORT must differ/);
});
