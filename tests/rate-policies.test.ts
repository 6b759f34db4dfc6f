// Finer limits against the real API and Postgres: route classes with their own windows (uploads
// per hour, status per minute, downloads per hour) reported in RateLimit-Policy, an API key's own
// daily_quota, its usage_count and last_used_at, and quotas the owner sets within the platform's.
import { randomBytes } from 'node:crypto';
import { startHarness, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';
import { client, type ApiClient, type Tenant } from './support/tenants.js';
import { makeWav } from './support/wav.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { RATE_LIMIT_UPLOAD: '2/1h', RATE_LIMIT_STATUS: '3/1m', RATE_LIMIT_DOWNLOAD: '2/1h', USAGE_FLUSH_INTERVAL_MS: '100' } });
});
afterAll(async () => {
  await h?.stop();
});

type Json = Record<string, any>;
const json = async (res: Response) => (await res.json()) as Json;
async function expectError(res: Response, status: number, code: string) {
  const body = await json(res);
  expect({ status: res.status, code: body.error?.code }).toEqual({ status, code });
  return body;
}
const ALL = ['media:read', 'media:write', 'jobs:read', 'jobs:create', 'usage:read', 'keys:manage', 'org:admin'];
async function newKey(t: Pick<ApiClient, 'post'> = h, body: Json = {}) {
  const created = await json(await t.post('/api/v1/api-keys', { name: `k-${randomBytes(3).toString('hex')}`, permissions: ALL, ...body }));
  return { id: created.key_id as string, c: client(h.url, { apiKey: created.api_key }) };
}
const put = (c: ApiClient, path: string, body: unknown) => c.fetch(path, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('route classes with their own windows', () => {
  test('uploads: 2 an hour, whichever upload route; the third waits for the hour, other classes pass', async () => {
    const { c } = await newKey();
    const jpeg = await makeJpeg(32, 32);
    const first = await c.upload(jpeg, 'a.jpg', 'image/jpeg');
    expect(first.status).toBe(201);
    expect(first.headers.get('ratelimit-policy')).toBe('"upload";q=2;w=3600');
    expect(first.headers.get('ratelimit')).toMatch(/^"upload";r=1;t=\d+$/);
    expect(Number(first.headers.get('x-ratelimit-reset')) - Date.now() / 1000).toBeGreaterThan(3000);
    // POST /api/v1/jobs is an upload too (refused here for its missing action, but counted).
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(jpeg)]), 'b.jpg');
    const second = await c.fetch('/api/v1/jobs', { method: 'POST', body: form });
    expect(second.headers.get('ratelimit')).toMatch(/^"upload";r=0;t=\d+$/);
    const refused = await c.upload(jpeg, 'c.jpg', 'image/jpeg');
    const body = await expectError(refused.clone(), 429, 'RATE_LIMITED');
    expect(body.error.details).toMatchObject({ class: 'upload', limit: 2, window_seconds: 3600 });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(3000);
    expect((await c.fetch('/api/v1/media')).status).toBe(200);
  });

  test('status checks: 3 a minute for job status, counted apart from other reads', async () => {
    const { c } = await newKey();
    const path = `/api/v1/jobs/${crypto.randomUUID()}`;
    for (let i = 0; i < 3; i++) {
      const res = await c.fetch(path);
      expect(res.status).toBe(404);
      expect(res.headers.get('ratelimit-policy')).toBe('"status";q=3;w=60');
    }
    const refused = await c.fetch(path);
    await expectError(refused.clone(), 429, 'RATE_LIMITED');
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    const list = await c.fetch('/api/v1/jobs');
    expect(list.status).toBe(200);
    expect(list.headers.get('ratelimit-policy')).toMatch(/^"read";/);
  });

  test('downloads: 2 an hour, media and results alike', async () => {
    const { c } = await newKey();
    const media = await json(await h.upload(await makeJpeg(16, 16), 'd.jpg', 'image/jpeg'));
    for (let i = 0; i < 2; i++) {
      const res = await c.fetch(`/api/v1/media/${media.id}/download`);
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-policy')).toBe('"download";q=2;w=3600');
      await res.arrayBuffer();
    }
    await expectError(await c.fetch(`/api/v1/media/${media.id}/download`), 429, 'RATE_LIMITED');
    expect((await c.fetch(`/api/v1/media/${media.id}`)).status).toBe(200);
  });

  test('GET /rate-limits shows each class with its window', async () => {
    const { c } = await newKey();
    const state = await json(await c.fetch('/api/v1/rate-limits'));
    const byClass = Object.fromEntries(state.limits.map((l: Json) => [l.class, l]));
    expect(byClass.upload).toMatchObject({ limit: 2, window_seconds: 3600, remaining: 2 });
    expect(byClass.status).toMatchObject({ limit: 3, window_seconds: 60 });
    expect(byClass.download).toMatchObject({ limit: 2, window_seconds: 3600 });
  });
});

describe('API keys', () => {
  test('daily_quota: past it 429 QUOTA_EXCEEDED; both of its limits are reported', async () => {
    const { id, c } = await newKey(h, { rate_limits: { requests_per_minute: 100, daily_quota: 3 } });
    const key = await json(await h.fetch(`/api/v1/api-keys/${id}`));
    expect(key.rate_limits).toEqual({ requests_per_minute: 100, daily_quota: 3 });
    const path = `/api/v1/organizations/${h.tenant.organizationId}`;
    const first = await c.fetch(path);
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-policy')).toBe('"read";q=100000;w=60, "key-minute";q=100;w=60, "key-day";q=3;w=86400');
    expect(first.headers.get('x-ratelimit-limit')).toBe('3');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('2');
    const state = await json(await c.fetch('/api/v1/rate-limits'));
    expect(state.api_key_limits).toMatchObject({ requests_per_minute: { limit: 100, window_seconds: 60 }, daily_quota: { limit: 3, used: 2, remaining: 1, window_seconds: 86400 } });
    expect((await c.fetch(path)).status).toBe(200);
    const refused = await c.fetch(path);
    const body = await expectError(refused.clone(), 429, 'QUOTA_EXCEEDED');
    expect(body.error.details).toMatchObject({ quota: 'daily_quota', limit: 3 });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(3600);
    // Another key of the organization is not affected.
    expect((await (await newKey()).c.fetch(path)).status).toBe(200);
  });

  test('usage_count counts the requests made with the key, last_used_at when', async () => {
    const { id, c } = await newKey();
    const fresh = await json(await h.fetch(`/api/v1/api-keys/${id}`));
    expect(fresh).toMatchObject({ usage_count: 0, last_used_at: null });
    for (let i = 0; i < 5; i++) expect((await c.fetch('/api/v1/media')).status).toBe(200);
    expect((await c.fetch('/api/v1/media/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    let key: Json = {};
    for (let i = 0; i < 50 && key.usage_count !== 6; i++) {
      await sleep(100);
      key = await json(await h.fetch(`/api/v1/api-keys/${id}`));
    }
    expect(key.usage_count).toBe(6);
    expect(Date.parse(key.last_used_at)).toBeGreaterThan(Date.now() - 60_000);
    const listed = (await json(await h.fetch('/api/v1/api-keys'))).api_keys;
    expect(listed.find((k: Json) => k.key_id === id)).toMatchObject({ usage_count: 6 });
  });
});

describe("quotas the owner sets within the platform's", () => {
  let t: Tenant;
  let org: string;
  beforeEach(async () => {
    t = await h.newTenant();
    org = `/api/v1/organizations/${t.organizationId}`;
  });
  const clearDay = () => h.common.orm.em.fork().execute(`delete from rate_limits where key = ?`, [`quota:day:${t.organizationId}`]);
  const operatorSets = (quotas: Json) => h.common.orm.em.fork().execute(`update organizations set settings = jsonb_set(settings, '{quotas}', ?::jsonb) where id = ?`, [JSON.stringify(quotas), t.organizationId]);

  test('lower values apply at once; a value over the bound is 400 naming it; null restores the platform value', async () => {
    await operatorSets({ requests_per_day: 100, concurrent_jobs: 5 });
    const before = await json(await t.fetch(org));
    expect(before.quota_bounds).toMatchObject({ requests_per_day: 100, concurrent_jobs: 5 });

    const over = await expectError(await put(t, org, { quotas: { requests_per_day: 101 } }), 400, 'VALIDATION_ERROR');
    expect(over.error.details).toMatchObject({ max: 100, fields: [expect.objectContaining({ field: 'quotas.requests_per_day' })] });
    await expectError(await put(t, org, { quotas: { concurrent_jobs: 0 } }), 400, 'VALIDATION_ERROR');

    const set = await put(t, org, { quotas: { requests_per_day: 4, concurrent_jobs: 2, max_file_size_mb: 1, retention_hours: 2 } });
    expect(set.status).toBe(200);
    const after = await json(set);
    expect(after.quotas).toMatchObject({ requests_per_day: 4, concurrent_jobs: 2, max_file_size_mb: 1, retention_hours: 2, retention_days: 1 });
    expect(after.quota_bounds).toEqual(before.quota_bounds);

    // max_file_size_mb and retention at the next upload; requests_per_day at the next request
    // (counted from a fresh day here: the requests above were counted under the old quota).
    await clearDay();
    await expectError(await t.upload(await makeWav(40), 'long.wav'), 400, 'FILE_TOO_LARGE');
    const media = await json(await t.upload(await makeJpeg(16, 16), 'short.jpg', 'image/jpeg'));
    expect((Date.parse(media.expires_at) - Date.now()) / 3_600_000).toBeCloseTo(2, 1);
    expect((await t.fetch(org)).status).toBe(200);
    expect((await t.fetch(org)).status).toBe(200);
    await expectError(await t.fetch(org), 429, 'QUOTA_EXCEEDED');

    // An operator lowering the bound caps what the owner set.
    await operatorSets({ requests_per_day: 100, concurrent_jobs: 1 });
    const [row] = await h.common.orm.em.fork().execute<{ settings: Json }[]>(`select settings from organizations where id = ?`, [t.organizationId]);
    expect(row!.settings.owner_quotas).toMatchObject({ concurrent_jobs: 2 });
    await clearDay();
    const capped = await json(await t.fetch(org));
    expect(capped.quotas.concurrent_jobs).toBe(1);

    const restored = await json(await put(t, org, { quotas: { requests_per_day: null, retention_days: 3 } }));
    expect(restored.quotas).toMatchObject({ requests_per_day: 100, retention_hours: 72, retention_days: 3 });
  });

  test("retention can't exceed the platform's, in hours or days", async () => {
    await operatorSets({ retention_hours: 48 });
    await expectError(await put(t, org, { quotas: { retention_days: 3 } }), 400, 'VALIDATION_ERROR');
    await expectError(await put(t, org, { quotas: { retention_hours: 49 } }), 400, 'VALIDATION_ERROR');
    expect((await json(await put(t, org, { quotas: { retention_hours: 6 } }))).quotas.retention_hours).toBe(6);
  });

  test('only the owner: an admin gets 403 and nothing changes', async () => {
    const inv = await json(await t.post(`${org}/users`, { email: `a-${randomBytes(4).toString('hex')}@example.test`, name: 'A', role: 'admin' }));
    const session = await json(await h.as({}).post('/api/v1/auth/accept-invitation', { invitation_token: inv.invitation_token, password: 'admin password 123' }));
    const admin = client(h.url, { accessToken: session.access_token });
    const before = await json(await t.fetch(org));
    await expectError(await put(admin, org, { quotas: { concurrent_jobs: 1 } }), 403, 'FORBIDDEN');
    // An admin still renames it.
    expect((await put(admin, org, { name: 'Renamed by admin' })).status).toBe(200);
    expect((await json(await t.fetch(org))).quotas).toEqual(before.quotas);
  });
});
