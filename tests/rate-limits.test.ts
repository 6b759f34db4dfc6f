import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import sharp from 'sharp';
import type { AddressInfo } from 'node:net';
import { createApp } from '#api/app.js';
import { createRateLimitService, type LimitStore } from '#api/services/rate-limit-service.js';
import { OrganizationSchema } from '#entities/index.js';
import type { Config, RatePolicy, RouteClass } from '#lib/config.js';
import { createLogger } from '#lib/logger.js';
import { startHarness, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';
import { client, type Tenant } from './support/tenants.js';

let h: Harness;
const servers: Server[] = [];
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  for (const s of servers) s.close();
  await h?.stop();
});

type Json = Record<string, any>;
const json = async (res: Response) => (await res.json()) as Json;
async function expectError(res: Response, status: number, code: string) {
  const body = await json(res);
  expect({ status: res.status, code: body.error?.code }).toEqual({ status, code });
}

/** Another API instance on the same database, with its own limits. */
async function instance(perMinute: Partial<Record<RouteClass, number | RatePolicy>>, http: Partial<Config['http']> = {}): Promise<string> {
  const classes = { ...h.config.rateLimits.classes };
  for (const [c, v] of Object.entries(perMinute)) classes[c as RouteClass] = typeof v === 'number' ? { limit: v, windowSeconds: 60 } : v;
  const config: Config = { ...h.config, http: { ...h.config.http, ...http }, rateLimits: { ...h.config.rateLimits, classes } };
  const app = createApp({ ...h.common, config, temporal: h.temporal, logger: createLogger('silent', 't'), clock: { now: () => new Date() }, metrics: h.metrics, tracer: (await import('@opentelemetry/api')).trace.getTracer('t') } as never);
  const server = createServer(app.callback()).listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((r) => server.once('listening', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
async function newKey(t: Tenant, body: Json = {}): Promise<string> {
  return (await json(await t.post('/api/v1/api-keys', { name: 'rl', permissions: ['media:read', 'media:write', 'jobs:read', 'jobs:create', 'keys:manage', 'org:admin'], ...body }))).api_key;
}
const setQuotas = (organizationId: string, quotas: Json) =>
  h.common.orm.em.fork().nativeUpdate(OrganizationSchema, { id: organizationId }, { settings: { quotas } });

test('a burst over the limit gets 429 RATE_LIMITED with Retry-After and the RateLimit headers', async () => {
  const url = await instance({ read: 5 });
  const c = client(url, { apiKey: await newKey(h.tenant) });
  const path = `/api/v1/organizations/${h.tenant.organizationId}`;
  for (let i = 1; i <= 5; i++) {
    const res = await c.fetch(path);
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-policy')).toBe('"read";q=5;w=60');
    expect(res.headers.get('ratelimit')).toMatch(new RegExp(`^"read";r=${5 - i};t=\\d+$`));
    expect(res.headers.get('x-ratelimit-limit')).toBe('5');
    expect(res.headers.get('x-ratelimit-remaining')).toBe(String(5 - i));
    expect(Number(res.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
  }
  const refused = await c.fetch(path);
  await expectError(refused.clone(), 429, 'RATE_LIMITED');
  const retryAfter = Number(refused.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(refused.headers.get('ratelimit')).toMatch(/^"read";r=0;t=\d+$/);
  expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');

  // Counted per key: another key of the same organization is not affected.
  expect((await client(url, { apiKey: await newKey(h.tenant) }).fetch(path)).status).toBe(200);
  // Route classes are counted apart: writes still pass.
  expect((await c.post('/api/v1/api-keys', { name: 'w', permissions: ['media:read'] })).status).toBe(201);
});

test('the counters live in Postgres: two API instances share them', async () => {
  const one = await instance({ read: 4 });
  const two = await instance({ read: 4 });
  const key = await newKey(h.tenant);
  const path = `/api/v1/organizations/${h.tenant.organizationId}`;
  for (const url of [one, two, one, two]) expect((await client(url, { apiKey: key }).fetch(path)).status).toBe(200);
  await expectError(await client(two, { apiKey: key }).fetch(path), 429, 'RATE_LIMITED');
  await expectError(await client(one, { apiKey: key }).fetch(path), 429, 'RATE_LIMITED');
  const [row] = await h.common.orm.em.fork().execute<{ n: string }[]>(`select count(*) as n from rate_limits where key like 'rl:read:key:%'`);
  expect(Number(row!.n)).toBeGreaterThan(0);
});

test("a key's own requests_per_minute caps it below the organization's limit", async () => {
  const url = await instance({ read: 50 });
  const c = client(url, { apiKey: await newKey(h.tenant, { rate_limits: { requests_per_minute: 2 } }) });
  const path = `/api/v1/organizations/${h.tenant.organizationId}`;
  expect((await c.fetch(path)).status).toBe(200);
  const second = await c.fetch(path);
  expect(second.headers.get('x-ratelimit-limit')).toBe('2');
  await expectError(await c.fetch(path), 429, 'RATE_LIMITED');
});

test('anonymous routes are limited per IP', async () => {
  const url = await instance({ auth: 3 }, { trustedProxyCount: 1 });
  const ip = `10.${randomBytes(3).join('.')}`;
  const other = `10.${randomBytes(3).join('.')}`;
  const login = (from: string) =>
    fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': from }, body: JSON.stringify({ email: `n-${from}@example.test`, password: 'nope nope' }) });
  for (let i = 0; i < 3; i++) expect((await login(ip)).status).toBe(401);
  const refused = await login(ip);
  await expectError(refused.clone(), 429, 'RATE_LIMITED');
  expect(refused.headers.get('ratelimit-policy')).toBe('"auth";q=3;w=60');
  expect((await login(other)).status).toBe(401);
});

test('GET /rate-limits shows the caller its state without spending other classes', async () => {
  const url = await instance({ read: 10, write: 7 });
  const c = client(url, { apiKey: await newKey(h.tenant) });
  await c.fetch(`/api/v1/organizations/${h.tenant.organizationId}`);
  const state = await json(await c.fetch('/api/v1/rate-limits'));
  expect(state.subject.type).toBe('api_key');
  const byClass = Object.fromEntries(state.limits.map((l: Json) => [l.class, l]));
  // Two reads so far (this one included), nothing else.
  expect(byClass.read).toMatchObject({ limit: 10, remaining: 8, window_seconds: 60 });
  expect(byClass.write).toMatchObject({ limit: 7, remaining: 7 });
  expect(Object.keys(byClass).sort()).toEqual(['auth', 'download', 'jobs', 'read', 'status', 'upload', 'write']);
});

test('when the store fails, a per-process limiter keeps limiting', async () => {
  const broken: LimitStore = { query: async () => Promise.reject(new Error('database is down')) };
  const limits = createRateLimitService({ store: broken, config: h.config, logger: createLogger('silent', 't') });
  const results = [];
  for (let i = 0; i < 4; i++) results.push((await limits.hit('read', 'key:x', { limit: 3, windowSeconds: 60 })).allowed);
  expect(results).toEqual([true, true, true, false]);
});

describe('organization quotas', () => {
  let t: Tenant;
  beforeEach(async () => {
    t = await h.newTenant();
  });

  test('requests_per_day answers 429 QUOTA_EXCEEDED with Retry-After', async () => {
    await setQuotas(t.organizationId, { requests_per_day: 3 });
    const path = `/api/v1/organizations/${t.organizationId}`;
    for (let i = 0; i < 3; i++) expect((await t.fetch(path)).status).toBe(200);
    const refused = await t.fetch(path);
    await expectError(refused.clone(), 429, 'QUOTA_EXCEEDED');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(3600);
    // The whole organization shares the quota.
    await expectError(await t.bearer.fetch(path), 429, 'QUOTA_EXCEEDED');
  });

  test('max_api_keys and max_users answer 403 LIMIT_EXCEEDED', async () => {
    await setQuotas(t.organizationId, { max_api_keys: 1, max_users: 1 });
    await expectError(await t.post('/api/v1/api-keys', { name: 'two', permissions: ['media:read'] }), 403, 'LIMIT_EXCEEDED');
    await expectError(await t.post(`/api/v1/organizations/${t.organizationId}/users`, { email: 'q@example.test', name: 'q' }), 403, 'LIMIT_EXCEEDED');
    const org = await json(await t.fetch(`/api/v1/organizations/${t.organizationId}`));
    expect(org.quotas).toMatchObject({ max_api_keys: 1, max_users: 1 });
  });

  test('storage_gb refuses uploads once reached; max_file_size_mb caps a file', async () => {
    await setQuotas(t.organizationId, { max_file_size_mb: 1 });
    // Random pixels do not compress: well over 1 MB, and under the harness's per-type limit.
    const big = await sharp(randomBytes(800 * 800 * 3), { raw: { width: 800, height: 800, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
    expect(big.length).toBeGreaterThan(1024 * 1024);
    await expectError(await t.upload(big, 'big.png', 'image/png'), 400, 'FILE_TOO_LARGE');
    const small = await makeJpeg(16, 16);
    expect((await t.upload(small, 's.jpg', 'image/jpeg')).status).toBe(201);

    await setQuotas(t.organizationId, { storage_gb: 1 });
    await h.common.orm.em.fork().execute(
      `update media_files set file_size_bytes = ? where organization_id = ?`,
      [2 * 1024 ** 3, t.organizationId],
    );
    await expectError(await t.upload(small, 's.jpg', 'image/jpeg'), 403, 'LIMIT_EXCEEDED');
  });

  test('concurrent_jobs answers 429 QUOTA_EXCEEDED while jobs are unfinished', async () => {
    await setQuotas(t.organizationId, { concurrent_jobs: 1 });
    const media = await json(await t.upload(await makeJpeg(16, 16), 'j.jpg', 'image/jpeg'));
    const submit = () => t.post('/api/v1/process', { media_id: media.id, action_id: 'img_resize', parameters: { width: 8 } });
    expect((await submit()).status).toBe(202); // no worker here: it stays queued
    const refused = await submit();
    await expectError(refused.clone(), 429, 'QUOTA_EXCEEDED');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  test('concurrent_jobs is enforced at insert: a burst of simultaneous submissions admits exactly the quota', async () => {
    const burst = await h.newTenant();
    await setQuotas(burst.organizationId, { concurrent_jobs: 3 });
    const media = await json(await burst.upload(await makeJpeg(16, 16), 'b.jpg', 'image/jpeg'));
    const replies = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        i % 2
          ? burst.post('/api/v1/process', { media_id: media.id, action_id: 'img_resize', parameters: { width: 8 + i } })
          : burst.post('/api/v1/process', { media_id: media.id, steps: [{ action_id: 'img_resize', parameters: { width: 8 + i } }, { action_id: 'img_metadata' }] }),
      ),
    );
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(3).fill(202), ...Array(9).fill(429)]);
    const [row] = await h.common.orm.em.fork().execute<{ n: string }[]>(`select count(*) as n from processing_jobs where organization_id = ?`, [burst.organizationId]);
    expect(Number(row!.n)).toBe(3);
  });

  test('a retry takes a concurrent-jobs slot like a submission, atomically', async () => {
    const r = await h.newTenant();
    await setQuotas(r.organizationId, { concurrent_jobs: 1 });
    const media = await json(await r.upload(await makeJpeg(16, 16), 'r.jpg', 'image/jpeg'));
    const submit = async () => (await json(await r.post('/api/v1/process', { media_id: media.id, action_id: 'img_resize', parameters: { width: 8 } }))).id as string;
    const em = () => h.common.orm.em.fork();
    const failed = await submit();
    // The first job failed; a second one now holds the only slot.
    await em().execute(`update processing_jobs set status = 'failed', completed_at = now(), error_code = 'PROCESSING_ERROR' where id = ?`, [failed]);
    const running = await submit();
    await expectError(await r.fetch(`/api/v1/jobs/${failed}/retry`, { method: 'POST' }), 429, 'QUOTA_EXCEEDED');
    expect((await em().execute<{ status: string }[]>(`select status from processing_jobs where id = ?`, [failed]))[0]!.status).toBe('failed');
    // Once the slot is free, two simultaneous retries of the same job: one is admitted.
    await em().execute(`update processing_jobs set status = 'completed', completed_at = now() where id = ?`, [running]);
    const [a, b] = await Promise.all([r.fetch(`/api/v1/jobs/${failed}/retry`, { method: 'POST' }), r.fetch(`/api/v1/jobs/${failed}/retry`, { method: 'POST' })]);
    // The loser finds the job claimed (409) or the slot taken by the claim (429).
    const statuses = [a.status, b.status].sort();
    expect(statuses[0]).toBe(202);
    expect([409, 429]).toContain(statuses[1]);
    // And the retried job now holds the slot: a new submission waits.
    await expectError(await r.post('/api/v1/process', { media_id: media.id, action_id: 'img_resize', parameters: { width: 8 } }), 429, 'QUOTA_EXCEEDED');
  });
});
