import { startHarness, type Harness } from './support/harness.js';
import { client, type ApiClient, type Tenant } from './support/tenants.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
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
const put = (c: ApiClient, path: string, body: unknown) => c.fetch(path, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const del = (c: ApiClient, path: string) => c.fetch(path, { method: 'DELETE' });

interface Member {
  id: string;
  c: ApiClient;
}
async function invite(t: Tenant, by: ApiClient, role: string): Promise<Member> {
  const res = await by.post(`/api/v1/organizations/${t.organizationId}/users`, { email: `${role}-${Math.random().toString(36).slice(2)}@example.test`, name: role, role });
  expect(res.status).toBe(201);
  const inv = await json(res);
  expect(inv.user).toMatchObject({ role, status: 'invited' });
  const session = await json(await h.as({}).post('/api/v1/auth/accept-invitation', { invitation_token: inv.invitation_token, password: `${role} password 123` }));
  expect(session.user).toMatchObject({ id: inv.user.id, status: 'active' });
  // The invitation works once.
  await expectError(await h.as({}).post('/api/v1/auth/accept-invitation', { invitation_token: inv.invitation_token, password: 'whatever 12345' }), 401, 'UNAUTHORIZED');
  return { id: inv.user.id, c: client(h.url, { accessToken: session.access_token }) };
}

test('members use media and their own keys, but cannot manage users or others’ keys', async () => {
  const t = await h.newTenant();
  const member = await invite(t, t, 'member');
  const org = `/api/v1/organizations/${t.organizationId}`;

  expect((await member.c.fetch(org)).status).toBe(200);
  await expectError(await member.c.fetch(`${org}/users`), 403, 'FORBIDDEN');
  await expectError(await member.c.post(`${org}/users`, { email: 'x@example.test', name: 'x' }), 403, 'FORBIDDEN');
  await expectError(await put(member.c, `${org}/users/${t.userId}/role`, { role: 'member' }), 403, 'FORBIDDEN');
  await expectError(await del(member.c, `${org}/users/${t.userId}`), 403, 'FORBIDDEN');
  await expectError(await put(member.c, org, { name: 'mine now' }), 403, 'FORBIDDEN');
  await expectError(await del(member.c, org), 403, 'FORBIDDEN');

  // Keys: only their own are visible; the owner's answer 404 as if absent.
  const own = await json(await member.c.post('/api/v1/api-keys', { name: 'mine', permissions: ['media:read'] }));
  const listed = await json(await member.c.fetch('/api/v1/api-keys'));
  expect(listed.api_keys.map((k: Json) => k.key_id)).toEqual([own.key_id]);
  await expectError(await member.c.fetch(`/api/v1/api-keys/${t.apiKeyId}`), 404, 'NOT_FOUND');
  await expectError(await del(member.c, `/api/v1/api-keys/${t.apiKeyId}`), 404, 'NOT_FOUND');
  await expectError(await member.c.post(`/api/v1/api-keys/${t.apiKeyId}/rotate`, {}), 404, 'NOT_FOUND');
  expect((await t.fetch(`/api/v1/media/00000000-0000-4000-8000-000000000000`)).status).toBe(404); // owner key untouched
  // The owner sees the member's key.
  expect((await t.fetch(`/api/v1/api-keys/${own.key_id}`)).status).toBe(200);
});

test('admins manage members but not owners; role changes apply on the next request', async () => {
  const t = await h.newTenant();
  const admin = await invite(t, t, 'admin');
  const org = `/api/v1/organizations/${t.organizationId}`;
  await expectError(await admin.c.post(`${org}/users`, { email: 'o@example.test', name: 'o', role: 'owner' }), 403, 'FORBIDDEN');
  const member = await invite(t, admin.c, 'member');

  await expectError(await member.c.fetch(`${org}/users`), 403, 'FORBIDDEN');
  expect(await json(await put(admin.c, `${org}/users/${member.id}/role`, { role: 'admin' }))).toMatchObject({ id: member.id, role: 'admin' });
  expect((await member.c.fetch(`${org}/users`)).status).toBe(200);

  await expectError(await put(admin.c, `${org}/users/${t.userId}/role`, { role: 'member' }), 403, 'FORBIDDEN');
  await expectError(await put(admin.c, `${org}/users/${member.id}/role`, { role: 'owner' }), 403, 'FORBIDDEN');
  await expectError(await del(admin.c, `${org}/users/${t.userId}`), 403, 'FORBIDDEN');
  await expectError(await del(admin.c, org), 403, 'FORBIDDEN');

  // Removal takes effect at once, for the user's sessions and keys.
  const key = await json(await member.c.post('/api/v1/api-keys', { name: 'k', permissions: ['media:read'] }));
  expect((await del(admin.c, `${org}/users/${member.id}`)).status).toBe(204);
  await expectError(await member.c.fetch(`${org}`), 401, 'UNAUTHORIZED');
  await expectError(await client(h.url, { apiKey: key.api_key }).fetch(org), 401, 'INVALID_API_KEY');
  const users = await json(await t.fetch(`${org}/users`));
  expect(users.users.map((u: Json) => u.id)).not.toContain(member.id);
});

test('nobody removes or demotes the last owner; a second owner makes it possible', async () => {
  const t = await h.newTenant();
  const org = `/api/v1/organizations/${t.organizationId}`;
  await expectError(await put(t.bearer, `${org}/users/${t.userId}/role`, { role: 'admin' }), 409, 'CONFLICT');
  await expectError(await del(t.bearer, `${org}/users/${t.userId}`), 409, 'CONFLICT');

  const second = await invite(t, t, 'owner');
  expect((await put(second.c, `${org}/users/${t.userId}/role`, { role: 'admin' })).status).toBe(200);
  await expectError(await put(second.c, `${org}/users/${second.id}/role`, { role: 'member' }), 409, 'CONFLICT');
  // The first owner, now an admin, lost org:delete at once.
  await expectError(await del(t.bearer, org), 403, 'FORBIDDEN');
});

test('org settings: quotas and other protected fields are not writable', async () => {
  const t = await h.newTenant();
  const org = `/api/v1/organizations/${t.organizationId}`;
  const before = await json(await t.fetch(org));
  expect(before.quotas).toMatchObject({ max_users: expect.any(Number), storage_gb: expect.any(Number), requests_per_day: expect.any(Number) });
  for (const body of [{ quotas: { storage_gb: 1000 } }, { settings: {} }, { slug: 'x' }, { id: t.organizationId }, { rate_limits: { read: 1e6 } }]) {
    await expectError(await put(t, org, body), 400, 'VALIDATION_ERROR');
  }
  const updated = await json(await put(t, org, { name: 'Renamed', metadata: { team: 'media' } }));
  expect(updated).toMatchObject({ name: 'Renamed', metadata: { team: 'media' }, quotas: before.quotas, slug: before.slug });
  await expectError(await t.post(`${org}/users`, { email: 'r@example.test', name: 'r', status: 'active' }), 400, 'VALIDATION_ERROR');
});

test('only an owner with a bearer token deletes the organization; everything of it stops at once', async () => {
  const t = await h.newTenant();
  const org = `/api/v1/organizations/${t.organizationId}`;
  await expectError(await del(t, org), 401, 'UNAUTHORIZED'); // an API key is not enough
  expect((await del(t.bearer, org)).status).toBe(204);
  await expectError(await t.fetch(org), 401, 'INVALID_API_KEY');
  await expectError(await t.bearer.fetch(org), 401, 'UNAUTHORIZED');
  await expectError(await h.as({}).post('/api/v1/auth/login', { email: t.email, password: t.password }), 401, 'UNAUTHORIZED');
});
