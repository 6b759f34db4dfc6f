// CORS: origins from CORS_ALLOWED_ORIGINS may call the API from a browser; others get no CORS headers.
import { startHarness, type Harness } from './support/harness.js';

let h: Harness;
const allowed = 'https://app.example.com';
beforeAll(async () => {
  h = await startHarness({ env: { CORS_ALLOWED_ORIGINS: `${allowed},http://localhost:5173` } });
});
afterAll(() => h?.stop());

test('a preflight from an allowed origin is answered with what it may send', async () => {
  const res = await fetch(`${h.url}/api/v1/process`, {
    method: 'OPTIONS',
    headers: { origin: allowed, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, idempotency-key' },
  });
  expect(res.status).toBe(204);
  expect(res.headers.get('access-control-allow-origin')).toBe(allowed);
  expect(res.headers.get('access-control-allow-methods')).toContain('POST');
  for (const header of ['authorization', 'content-type', 'idempotency-key', 'x-api-key', 'tus-resumable']) {
    expect(res.headers.get('access-control-allow-headers')).toContain(header);
  }
  expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  expect(res.headers.get('vary')).toContain('Origin');
});

test('replies to an allowed origin, errors included, are readable with their request id', async () => {
  const ok = await h.fetch('/api/v1/media', { headers: { origin: allowed } });
  expect(ok.status).toBe(200);
  expect(ok.headers.get('access-control-allow-origin')).toBe(allowed);
  expect(ok.headers.get('access-control-expose-headers')).toContain('x-request-id');
  const denied = await fetch(`${h.url}/api/v1/media`, { headers: { origin: allowed } });
  expect(denied.status).toBe(401);
  expect(denied.headers.get('access-control-allow-origin')).toBe(allowed);
});

test('another origin gets no CORS headers, so browsers keep it out; the API works as before without Origin', async () => {
  const pre = await fetch(`${h.url}/api/v1/media`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
  expect(pre.headers.get('access-control-allow-origin')).toBeNull();
  expect(pre.status).not.toBe(204);
  const get = await h.fetch('/api/v1/media', { headers: { origin: 'https://evil.example' } });
  expect(get.headers.get('access-control-allow-origin')).toBeNull();
  expect((await h.fetch('/api/v1/media')).status).toBe(200);
});

test('without CORS_ALLOWED_ORIGINS no origin is allowed', async () => {
  const plain = await startHarness();
  try {
    const res = await fetch(`${plain.url}/api/v1/process`, { method: 'OPTIONS', headers: { origin: allowed, 'access-control-request-method': 'POST' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  } finally {
    await plain.stop();
  }
});
