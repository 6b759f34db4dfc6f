// Key management is bounded by the rank of a key's creator: a key acts with its creator's role, so
// an admin may list and revoke every key of the organization but change only keys of users they
// outrank (and then only narrow them), and rotate only their own.
import { startHarness, type Harness } from './support/harness.js';
import { client, type ApiClient, type Tenant } from './support/tenants.js';

let h: Harness;
let t: Tenant;
let admin: Member;
let admin2: Member;
let member: Member;
beforeAll(async () => {
  h = await startHarness();
  t = h.tenant;
  admin = await invite('admin');
  admin2 = await invite('admin');
  member = await invite('member');
});
afterAll(async () => {
  await h?.stop();
});

type Json = Record<string, any>;
interface Member {
  id: string;
  c: ApiClient;
}
const json = async (res: Response) => (await res.json()) as Json;
async function expectError(res: Response, status: number, code: string) {
  const body = await json(res);
  expect({ status: res.status, code: body.error?.code }).toEqual({ status, code });
}
const put = (c: ApiClient, path: string, body: unknown) => c.fetch(path, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function invite(role: string): Promise<Member> {
  const res = await t.post(`/api/v1/organizations/${t.organizationId}/users`, { email: `${role}-${Math.random().toString(36).slice(2)}@example.test`, name: role, role });
  expect(res.status).toBe(201);
  const inv = await json(res);
  const session = await json(await h.as({}).post('/api/v1/auth/accept-invitation', { invitation_token: inv.invitation_token, password: `${role} password 123` }));
  return { id: inv.user.id, c: client(h.url, { accessToken: session.access_token }) };
}
async function keyOf(c: ApiClient, permissions: string[]): Promise<{ id: string; secret: string }> {
  const res = await c.post('/api/v1/api-keys', { name: 'k', permissions });
  expect(res.status).toBe(201);
  const body = await json(res);
  return { id: body.key_id, secret: body.api_key };
}
const permissionsOf = async (id: string) => (await json(await t.bearer.fetch(`/api/v1/api-keys/${id}`))).permissions as string[];

test('an admin cannot turn the owner\'s key into an owner key of their own (update, then rotate)', async () => {
  const owners = await keyOf(t.bearer, ['media:read']);
  await expectError(await put(admin.c, `/api/v1/api-keys/${owners.id}`, { permissions: ['media:read', 'org:admin'] }), 403, 'FORBIDDEN');
  await expectError(await put(admin.c, `/api/v1/api-keys/${owners.id}`, { name: 'renamed' }), 403, 'FORBIDDEN');
  await expectError(await admin.c.post(`/api/v1/api-keys/${owners.id}/rotate`, { grace_period_seconds: 3600 }), 403, 'FORBIDDEN');
  // Nothing changed: same scopes, and the owner's secret still works (it was not rotated).
  expect(await permissionsOf(owners.id)).toEqual(['media:read']);
  expect((await h.as({ apiKey: owners.secret }).fetch('/api/v1/media')).status).toBe(200);
  // So the real owner cannot be demoted through it either.
  const roles = await json(await t.fetch(`/api/v1/organizations/${t.organizationId}/users`));
  expect(roles.users.find((u: Json) => u.id === t.userId)?.role).toBe('owner');
});

test('an admin cannot update or rotate another admin\'s key, but may list and revoke it', async () => {
  const theirs = await keyOf(admin2.c, ['media:read', 'org:admin']);
  await expectError(await put(admin.c, `/api/v1/api-keys/${theirs.id}`, { permissions: ['media:read'] }), 403, 'FORBIDDEN');
  await expectError(await admin.c.post(`/api/v1/api-keys/${theirs.id}/rotate`, {}), 403, 'FORBIDDEN');
  const listed = await json(await admin.c.fetch('/api/v1/api-keys'));
  expect(listed.api_keys.map((k: Json) => k.key_id)).toContain(theirs.id);
  expect((await admin.c.fetch(`/api/v1/api-keys/${theirs.id}`, { method: 'DELETE' })).status).toBe(204);
  await expectError(await h.as({ apiKey: theirs.secret }).fetch('/api/v1/media'), 401, 'INVALID_API_KEY');
});

test('the owner\'s keys can be revoked by an admin (a leaked key is stopped by whoever sees it)', async () => {
  const owners = await keyOf(t.bearer, ['media:read']);
  expect((await admin.c.fetch(`/api/v1/api-keys/${owners.id}`, { method: 'DELETE' })).status).toBe(204);
  await expectError(await h.as({ apiKey: owners.secret }).fetch('/api/v1/media'), 401, 'INVALID_API_KEY');
});

test('a higher role may narrow a lower role\'s key, never widen or rotate it', async () => {
  const members = await keyOf(member.c, ['media:read', 'media:write']);
  await expectError(await put(admin.c, `/api/v1/api-keys/${members.id}`, { permissions: ['media:read', 'media:write', 'jobs:create'] }), 403, 'FORBIDDEN');
  await expectError(await admin.c.post(`/api/v1/api-keys/${members.id}/rotate`, {}), 403, 'FORBIDDEN');
  const narrowed = await put(admin.c, `/api/v1/api-keys/${members.id}`, { permissions: ['media:read'], name: 'read only now' });
  expect(narrowed.status).toBe(200);
  expect(await json(narrowed)).toMatchObject({ permissions: ['media:read'], name: 'read only now' });
  // The owner outranks admins: the same holds one rank up.
  const admins = await keyOf(admin.c, ['media:read', 'keys:manage']);
  expect((await put(t.bearer, `/api/v1/api-keys/${admins.id}`, { permissions: ['media:read'] })).status).toBe(200);
  await expectError(await put(t.bearer, `/api/v1/api-keys/${admins.id}`, { permissions: ['media:read', 'org:admin'] }), 403, 'FORBIDDEN');
  await expectError(await t.bearer.post(`/api/v1/api-keys/${admins.id}/rotate`, {}), 403, 'FORBIDDEN');
});

test('everyone still manages their own keys, within their own rights', async () => {
  const mine = await keyOf(admin.c, ['media:read']);
  expect((await put(admin.c, `/api/v1/api-keys/${mine.id}`, { permissions: ['media:read', 'org:admin'] })).status).toBe(200);
  const rotated = await admin.c.post(`/api/v1/api-keys/${mine.id}/rotate`, {});
  expect(rotated.status).toBe(200);
  expect((await h.as({ apiKey: (await json(rotated)).api_key }).fetch(`/api/v1/organizations/${t.organizationId}/users`)).status).toBe(200);

  // A member cannot give their own key what their role lacks.
  const members = await keyOf(member.c, ['media:read']);
  await expectError(await put(member.c, `/api/v1/api-keys/${members.id}`, { permissions: ['media:read', 'org:admin'] }), 403, 'FORBIDDEN');
  // A key managing keys cannot widen a key past its own scopes, even its creator's other keys.
  const manager = await keyOf(admin.c, ['keys:manage', 'media:read']);
  const asManager = h.as({ apiKey: manager.secret });
  await expectError(await put(asManager, `/api/v1/api-keys/${mine.id}`, { permissions: ['media:read', 'jobs:create'] }), 403, 'FORBIDDEN');
  await expectError(await put(asManager, `/api/v1/api-keys/${manager.id}`, { permissions: ['keys:manage', 'media:read', 'org:admin'] }), 403, 'FORBIDDEN');
  expect(await permissionsOf(manager.id)).toEqual(['keys:manage', 'media:read']);
});
