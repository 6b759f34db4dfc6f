import { ApiKeySchema, UserSchema } from '#entities/index.js';
import { sha256Hex } from '#lib/tokens.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';
import { client, type ApiClient } from './support/tenants.js';

let h: Harness;
let mediaId: string;
beforeAll(async () => {
  h = await startHarness();
  const up = await h.upload(await makeJpeg(64, 48), 'a.jpg', 'image/jpeg');
  mediaId = ((await up.json()) as { id: string }).id;
});
afterAll(async () => {
  await h?.stop();
});

type Json = Record<string, any>;
const json = async (res: Response) => (await res.json()) as Json;
async function expectError(res: Response, status: number, code: string) {
  const body = await json(res);
  expect({ status: res.status, code: body.error?.code }).toEqual({ status, code });
}
async function createKey(by: ApiClient, body: Json): Promise<Json> {
  const res = await by.post('/api/v1/api-keys', { name: 'k', ...body });
  expect(res.status).toBe(201);
  return json(res);
}
const withKey = (key: string) => client(h.url, { apiKey: key });

test('a key is shown once, as api_key with its key_id; only its SHA-256 is stored', async () => {
  const created = await createKey(h.tenant.bearer, { permissions: ['media:read', 'jobs:read'], expires_in_days: 30 });
  expect(created).toMatchObject({ key_id: expect.any(String), api_key: expect.stringMatching(/^mf_[0-9A-Za-z]{30}_[0-9A-Za-z]{6}$/), permissions: ['media:read', 'jobs:read'], status: 'active' });
  expect(new Date(created.expires_at).getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);

  const listed = await json(await h.fetch('/api/v1/api-keys'));
  const fetched = await json(await h.fetch(`/api/v1/api-keys/${created.key_id}`));
  for (const view of [fetched, listed.api_keys.find((k: Json) => k.key_id === created.key_id)]) {
    expect(view).toBeDefined();
    expect(view.api_key).toBeUndefined();
    expect(JSON.stringify(view)).not.toContain(created.api_key.slice(3, 33));
    expect(view.key_preview).toBe(`${created.api_key.slice(0, 7)}…${created.api_key.slice(-4)}`);
  }
  const row = await h.common.orm.em.fork().findOneOrFail(ApiKeySchema, created.key_id, { populate: ['keyHash'] });
  expect(row.keyHash).toBe(sha256Hex(created.api_key));
  const raw = await h.common.orm.em.fork().execute(`select * from api_keys where id = ?`, [created.key_id]);
  expect(JSON.stringify(raw)).not.toContain(created.api_key);
});

test('a read-only key reads but cannot submit jobs, upload or manage keys', async () => {
  const { api_key } = await createKey(h.tenant, { permissions: ['media:read', 'jobs:read'] });
  const ro = withKey(api_key);
  expect((await ro.fetch(`/api/v1/media/${mediaId}`)).status).toBe(200);
  await expectError(await ro.post('/api/v1/process', { media_id: mediaId, action_id: 'img_resize', parameters: { width: 10 } }), 403, 'FORBIDDEN');
  await expectError(await ro.upload(await makeJpeg(8, 8), 'b.jpg', 'image/jpeg'), 403, 'FORBIDDEN');
  await expectError(await ro.fetch('/api/v1/api-keys'), 403, 'FORBIDDEN');
});

test('each scope opens exactly its operations', async () => {
  const probes: Record<string, (c: ApiClient) => Promise<Response>> = {
    'media:read': (c) => c.fetch(`/api/v1/media/${mediaId}`),
    'media:write': async (c) => c.upload(await makeJpeg(8, 8), 'c.jpg', 'image/jpeg'),
    'jobs:read': (c) => c.fetch(`/api/v1/jobs/00000000-0000-4000-8000-00000000abcd`),
    'jobs:create': (c) => c.post('/api/v1/process', { media_id: mediaId, action_id: 'img_resize', parameters: { width: 10 } }),
    'keys:manage': (c) => c.fetch('/api/v1/api-keys'),
    'org:admin': (c) => c.fetch(`/api/v1/organizations/${h.tenant.organizationId}/users`),
  };
  const all = Object.keys(probes).concat('usage:read');
  for (const scope of Object.keys(probes)) {
    const only = withKey((await createKey(h.tenant, { permissions: [scope] })).api_key);
    const allBut = withKey((await createKey(h.tenant, { permissions: all.filter((s) => s !== scope) })).api_key);
    expect({ scope, status: (await probes[scope]!(only)).status }).not.toEqual({ scope, status: 403 });
    const refused = await probes[scope]!(allBut);
    expect({ scope, status: refused.status }).toEqual({ scope, status: 403 });
  }
});

test('malformed keys, bad checksums, unknown, revoked and expired keys are 401 INVALID_API_KEY, at once', async () => {
  const created = await createKey(h.tenant, { permissions: ['media:read'] });
  const key = created.api_key as string;
  await expectError(await withKey('nonsense').fetch(`/api/v1/media/${mediaId}`), 401, 'INVALID_API_KEY');
  const flipped = key.slice(0, 10) + (key[10] === 'A' ? 'B' : 'A') + key.slice(11);
  await expectError(await withKey(flipped).fetch(`/api/v1/media/${mediaId}`), 401, 'INVALID_API_KEY');
  // Well-formed with a valid checksum, but never issued.
  const { generateApiKey } = await import('#lib/tokens.js');
  await expectError(await withKey(generateApiKey().key).fetch(`/api/v1/media/${mediaId}`), 401, 'INVALID_API_KEY');

  expect((await withKey(key).fetch(`/api/v1/media/${mediaId}`)).status).toBe(200);
  expect((await h.fetch(`/api/v1/api-keys/${created.key_id}`, { method: 'DELETE' })).status).toBe(204);
  await expectError(await withKey(key).fetch(`/api/v1/media/${mediaId}`), 401, 'INVALID_API_KEY');
  expect((await json(await h.fetch(`/api/v1/api-keys/${created.key_id}`))).status).toBe('revoked');

  const expiring = await createKey(h.tenant, { permissions: ['media:read'] });
  expect((await withKey(expiring.api_key).fetch(`/api/v1/media/${mediaId}`)).status).toBe(200);
  // Written past the API (as an operator would): every instance hears of it within a second.
  await h.common.orm.em.fork().nativeUpdate(ApiKeySchema, { id: expiring.key_id }, { expiresAt: new Date(Date.now() - 1000) });
  const refusedAt = await waitFor(async () => ((await withKey(expiring.api_key).fetch(`/api/v1/media/${mediaId}`)).status === 401 ? Date.now() : undefined), 1000, 20);
  expect(refusedAt).toBeGreaterThan(0);
  await expectError(await withKey(expiring.api_key).fetch(`/api/v1/media/${mediaId}`), 401, 'INVALID_API_KEY');
  expect((await json(await h.fetch(`/api/v1/api-keys/${expiring.key_id}`))).status).toBe('expired');

  await expectError(await h.post('/api/v1/api-keys', { name: 'past', permissions: ['media:read'], expires_at: '2020-01-01T00:00:00Z' }), 400, 'VALIDATION_ERROR');
});

test('rotation: the new secret works; the old one only for the grace period the caller chose', async () => {
  const created = await createKey(h.tenant, { permissions: ['media:read'] });
  const graceful = await json(await h.post(`/api/v1/api-keys/${created.key_id}/rotate`, { grace_period_seconds: 3600 }));
  expect(graceful).toMatchObject({ key_id: created.key_id, api_key: expect.stringMatching(/^mf_/) });
  expect(graceful.api_key).not.toBe(created.api_key);
  expect((await withKey(graceful.api_key).fetch(`/api/v1/media/${mediaId}`)).status).toBe(200);
  expect((await withKey(created.api_key).fetch(`/api/v1/media/${mediaId}`)).status).toBe(200);

  const abrupt = await json(await h.post(`/api/v1/api-keys/${created.key_id}/rotate`, {}));
  expect((await withKey(abrupt.api_key).fetch(`/api/v1/media/${mediaId}`)).status).toBe(200);
  await expectError(await withKey(graceful.api_key).fetch(`/api/v1/media/${mediaId}`), 401, 'INVALID_API_KEY');
  await expectError(await withKey(created.api_key).fetch(`/api/v1/media/${mediaId}`), 401, 'INVALID_API_KEY');

  await h.fetch(`/api/v1/api-keys/${created.key_id}`, { method: 'DELETE' });
  await expectError(await h.post(`/api/v1/api-keys/${created.key_id}/rotate`, {}), 409, 'CONFLICT');
});

test('a key never exceeds its creator: not at creation, and not after the creator is demoted', async () => {
  // An admin of the organization, invited and signed in.
  const invite = await json(await h.post(`/api/v1/organizations/${h.tenant.organizationId}/users`, { email: `adm-${Date.now()}@example.test`, name: 'Adm', role: 'admin' }));
  const session = await json(await h.as({}).post('/api/v1/auth/accept-invitation', { invitation_token: invite.invitation_token, password: 'admin password 1' }));
  const admin = client(h.url, { accessToken: session.access_token });
  const adminKey = await createKey(admin, { permissions: ['org:admin', 'media:read'] });
  expect((await withKey(adminKey.api_key).fetch(`/api/v1/organizations/${h.tenant.organizationId}/users`)).status).toBe(200);

  // A key cannot mint a key with more than it has.
  await expectError(await withKey(adminKey.api_key).post('/api/v1/api-keys', { name: 'x', permissions: ['jobs:create'] }), 403, 'FORBIDDEN');

  await h.fetch(`/api/v1/organizations/${h.tenant.organizationId}/users/${invite.user.id}/role`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ role: 'member' }),
  });
  await expectError(await withKey(adminKey.api_key).fetch(`/api/v1/organizations/${h.tenant.organizationId}/users`), 403, 'FORBIDDEN');
  expect((await withKey(adminKey.api_key).fetch(`/api/v1/media/${mediaId}`)).status).toBe(200);
  // And a member cannot ask for org:admin on a new key.
  await expectError(await admin.post('/api/v1/api-keys', { name: 'x', permissions: ['org:admin'] }), 403, 'FORBIDDEN');
});

test('unknown scopes and protected fields are refused by the spec', async () => {
  await expectError(await h.post('/api/v1/api-keys', { name: 'x', permissions: ['everything'] }), 400, 'VALIDATION_ERROR');
  await expectError(await h.post('/api/v1/api-keys', { name: 'x', permissions: ['media:read'], organization_id: h.tenant.organizationId }), 400, 'VALIDATION_ERROR');
  await expectError(await h.post('/api/v1/api-keys', { name: 'x', permissions: ['media:read'], status: 'active' }), 400, 'VALIDATION_ERROR');
  const k = await createKey(h.tenant, { permissions: ['media:read'] });
  const put = (body: Json) => h.fetch(`/api/v1/api-keys/${k.key_id}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await expectError(await put({ status: 'active' }), 400, 'VALIDATION_ERROR');
  const renamed = await json(await put({ name: 'renamed', rate_limits: { requests_per_minute: 7 } }));
  expect(renamed).toMatchObject({ name: 'renamed', rate_limits: { requests_per_minute: 7 }, status: 'active' });
});

test('last_used_at is recorded, coarsely', async () => {
  const k = await createKey(h.tenant, { permissions: ['media:read'] });
  expect(k.last_used_at).toBeNull();
  await withKey(k.api_key).fetch(`/api/v1/media/${mediaId}`);
  const first = await h.common.orm.em.fork().findOneOrFail(ApiKeySchema, k.key_id);
  // The write is not awaited by the request: give it a moment.
  for (let i = 0; i < 20 && !first.lastUsedAt; i++) {
    await new Promise((r) => setTimeout(r, 50));
    Object.assign(first, await h.common.orm.em.fork().findOneOrFail(ApiKeySchema, k.key_id));
  }
  expect(first.lastUsedAt).toBeInstanceOf(Date);
  await withKey(k.api_key).fetch(`/api/v1/media/${mediaId}`);
  await new Promise((r) => setTimeout(r, 100));
  const second = await h.common.orm.em.fork().findOneOrFail(ApiKeySchema, k.key_id);
  expect(second.lastUsedAt!.getTime()).toBe(first.lastUsedAt!.getTime());
});

test('uploads and jobs record who made them', async () => {
  const k = await createKey(h.tenant, { permissions: ['media:write', 'media:read'] });
  const up = await json(await withKey(k.api_key).upload(await makeJpeg(8, 8), 'who.jpg', 'image/jpeg'));
  const [row] = await h.common.orm.em.fork().execute(`select uploaded_by_user_id, uploaded_by_api_key_id from media_files where id = ?`, [up.id]);
  expect(row).toEqual({ uploaded_by_user_id: h.tenant.userId, uploaded_by_api_key_id: k.key_id });
  expect(await h.common.orm.em.fork().count(UserSchema, { id: h.tenant.userId })).toBe(1);
});
