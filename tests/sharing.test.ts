// Sharing a media file with a user or another organization, and time-limited signed download links.
import { randomUUID } from 'node:crypto';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';
import { client, type ApiClient, type Tenant } from './support/tenants.js';

let h: Harness;
let a: Tenant;
let b: Tenant;
let jpeg: Buffer;
let mediaId: string;
let jobId: string;

const json = async (res: Response) => (await res.json()) as Record<string, any>;
const del = (c: ApiClient, path: string) => c.fetch(path, { method: 'DELETE' });

beforeAll(async () => {
  h = await startHarness({ worker: true });
  a = h.tenant;
  b = await h.newTenant({ name: 'Grantee org' });
  jpeg = await makeJpeg(64, 48);
  mediaId = (await json(await a.upload(jpeg, 'shared.jpg', 'image/jpeg'))).id;
  jobId = (await json(await a.post('/api/v1/process', { media_id: mediaId, action_id: 'img_resize', parameters: { width: 16 } }))).id;
  await waitFor(async () => ((await json(await a.fetch(`/api/v1/jobs/${jobId}`))).status === 'completed' ? true : undefined));
});
afterAll(async () => {
  await h?.stop();
});

/** What B can read of A's file and job: status of each read. */
async function reads(c: ApiClient) {
  return {
    media: (await c.fetch(`/api/v1/media/${mediaId}`)).status,
    download: (await c.fetch(`/api/v1/media/${mediaId}/download`)).status,
    thumbnail: (await c.fetch(`/api/v1/media/${mediaId}/thumbnail`)).status,
    job: (await c.fetch(`/api/v1/jobs/${jobId}`)).status,
    result: (await c.fetch(`/api/v1/jobs/${jobId}/result`)).status,
  };
}
const none = { media: 404, download: 404, thumbnail: 404, job: 404, result: 404 };
const all = { media: 200, download: 200, thumbnail: 200, job: 200, result: 200 };

test('the migration matches the entities (no pending schema diff)', async () => {
  const diff = await h.common.orm.schema.getUpdateSchemaSQL({ wrap: false });
  expect(diff.split('\n').filter((l) => /"(media_uploads|media_imports|media_shares)"/.test(l))).toEqual([]);
});

test('an organization share: the grantee reads, cannot modify, and revoking ends it at once', async () => {
  expect(await reads(b)).toEqual(none);
  const res = await a.post(`/api/v1/media/${mediaId}/shares`, { organization_id: b.organizationId });
  const share = await json(res);
  expect(res.status).toBe(201);
  expect(share).toMatchObject({ media_id: mediaId, organization_id: b.organizationId, expires_at: null });

  expect(await reads(b)).toEqual(all);
  const bytes = Buffer.from(await (await b.fetch(`/api/v1/media/${mediaId}/download`)).arrayBuffer());
  expect(bytes.equals(jpeg)).toBe(true);

  // Read only: no changes, no jobs, no shares, no links, no listing of shares.
  expect((await b.post('/api/v1/process', { media_id: mediaId, action_id: 'img_resize', parameters: { width: 8 } })).status).toBe(404);
  expect((await del(b, `/api/v1/media/${mediaId}`)).status).toBe(404);
  expect((await b.post(`/api/v1/media/${mediaId}/shares`, { organization_id: a.organizationId })).status).toBe(404);
  expect((await b.fetch(`/api/v1/media/${mediaId}/shares`)).status).toBe(404);
  expect((await del(b, `/api/v1/media/${mediaId}/shares/${share.id}`)).status).toBe(404);
  expect((await b.post(`/api/v1/media/${mediaId}/download-link`, { expires_in: 60 })).status).toBe(404);
  expect((await a.fetch(`/api/v1/media/${mediaId}`)).status).toBe(200);

  const listed = await json(await a.fetch(`/api/v1/media/${mediaId}/shares`));
  expect(listed.shares.map((s: { id: string }) => s.id)).toEqual([share.id]);
  // Sharing again with the same grantee updates it.
  const later = new Date(Date.now() + 3_600_000).toISOString();
  const again = await a.post(`/api/v1/media/${mediaId}/shares`, { organization_id: b.organizationId, expires_at: later });
  expect(again.status).toBe(200);
  expect(await json(again)).toMatchObject({ id: share.id, expires_at: later });

  expect((await del(a, `/api/v1/media/${mediaId}/shares/${share.id}`)).status).toBe(204);
  expect(await reads(b)).toEqual(none);
  expect((await del(a, `/api/v1/media/${mediaId}/shares/${share.id}`)).status).toBe(404);
});

test('a user share reaches that user only, and an expired share reaches no one', async () => {
  const c = await h.newTenant({ name: 'Third org' });
  // Long enough for the reads below on a loaded machine; the test then waits out what is left of it.
  const expiresAt = Date.now() + 4000;
  const res = await a.post(`/api/v1/media/${mediaId}/shares`, { user_id: b.userId, expires_at: new Date(expiresAt).toISOString() });
  expect(res.status).toBe(201);
  expect(await reads(b)).toEqual(all);
  expect(await reads(b.bearer)).toEqual(all);
  expect(await reads(c)).toEqual(none);
  await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 100));
  expect(await reads(b)).toEqual(none);
  await del(a, `/api/v1/media/${mediaId}/shares/${(await json(res)).id}`);
});

test('only the uploader or an admin shares; bad grants are 400', async () => {
  const inv = await json(await a.post(`/api/v1/organizations/${a.organizationId}/users`, { email: `m-${Date.now()}@example.test`, name: 'member', role: 'member' }));
  const session = await json(await h.as({}).post('/api/v1/auth/accept-invitation', { invitation_token: inv.invitation_token, password: 'member password 123' }));
  const member = client(h.url, { accessToken: session.access_token });
  const denied = await member.post(`/api/v1/media/${mediaId}/shares`, { organization_id: b.organizationId });
  expect(denied.status).toBe(403);
  expect((await json(denied)).error.code).toBe('FORBIDDEN');
  // The member's own upload is theirs to share.
  const own = (await json(await member.fetch('/api/v1/media/upload', { method: 'POST', body: form(jpeg) }))).id;
  expect((await member.post(`/api/v1/media/${own}/shares`, { organization_id: b.organizationId })).status).toBe(201);

  for (const bad of [
    {},
    { user_id: b.userId, organization_id: b.organizationId },
    { organization_id: a.organizationId },
    { user_id: a.userId },
    { organization_id: b.organizationId, expires_at: new Date(Date.now() - 1000).toISOString() },
  ]) {
    const r = await a.post(`/api/v1/media/${mediaId}/shares`, bad);
    expect({ bad, status: r.status, code: (await json(r)).error?.code }).toEqual({ bad, status: 400, code: 'VALIDATION_ERROR' });
  }
});

test('a share does not tell whether its grantee exists: an unknown id is answered like a real one', async () => {
  const answer = async (body: Record<string, string>) => {
    const res = await a.post(`/api/v1/media/${mediaId}/shares`, body);
    const share = await json(res);
    // Everything but the ids that differ by construction.
    return { status: res.status, keys: Object.keys(share).sort(), expires_at: share.expires_at, grantee: share.user_id ?? share.organization_id };
  };
  const unknownUser = randomUUID();
  const unknownOrg = randomUUID();
  expect(await answer({ user_id: b.userId })).toEqual({ ...(await answer({ user_id: unknownUser })), grantee: b.userId });
  expect(await answer({ organization_id: b.organizationId })).toEqual({ ...(await answer({ organization_id: unknownOrg })), grantee: b.organizationId });
  // Listed alike, and reaching no one.
  const listed = (await json(await a.fetch(`/api/v1/media/${mediaId}/shares`))).shares.map((s: Record<string, string>) => s.user_id ?? s.organization_id);
  expect(listed).toEqual(expect.arrayContaining([b.userId, unknownUser, b.organizationId, unknownOrg]));
  for (const s of (await json(await a.fetch(`/api/v1/media/${mediaId}/shares`))).shares) await del(a, `/api/v1/media/${mediaId}/shares/${s.id}`);
  expect(await reads(b)).toEqual(none);
});

function form(bytes: Buffer): FormData {
  const f = new FormData();
  f.append('file', new Blob([new Uint8Array(bytes)]), 'mine.jpg');
  return f;
}

describe('signed download links', () => {
  const anonymous = () => h.as({});
  async function link(expiresIn: number): Promise<string> {
    const res = await a.post(`/api/v1/media/${mediaId}/download-link`, { expires_in: expiresIn });
    const body = await json(res);
    expect(res.status).toBe(201);
    expect(body.url.startsWith(`${h.url}/api/v1/shared/`)).toBe(true);
    return body.url.slice(h.url.length);
  }

  test('downloads without credentials until the link expires', async () => {
    const path = await link(2);
    const res = await anonymous().fetch(path);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="shared.jpg"');
    expect(res.headers.get('cache-control')).toBe('private, no-store');
    expect(Buffer.from(await res.arrayBuffer()).equals(jpeg)).toBe(true);
    await new Promise((r) => setTimeout(r, 2100));
    const expired = await anonymous().fetch(path);
    expect(expired.status).toBe(404);
    expect((await json(expired)).error.code).toBe('NOT_FOUND');
  });

  test('a tampered token is refused', async () => {
    const path = await link(600);
    const token = path.split('/').pop()!;
    const [v, kid, id, exp, issuer, sig, bound] = token.split('.') as [string, string, string, string, string, string, string];
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    const otherMedia = (await json(await a.upload(jpeg, 'other.jpg', 'image/jpeg'))).id;
    for (const bad of [
      [v, kid, id, exp, issuer, flip(sig), bound],
      [v, kid, id, exp, issuer, sig, flip(bound)],
      [v, kid, otherMedia, exp, issuer, sig, bound],
      [v, kid, id, String(Number(exp) + 86_400), issuer, sig, bound],
      [v, flip(kid), id, exp, issuer, sig, bound],
      // Another issuer of the same organization (its owner instead of the key).
      [v, kid, id, exp, `u-${a.userId}`, sig, bound],
      [v, kid, 'not-a-uuid', exp, issuer, sig, bound],
      ['v1', kid, id, exp, sig],
      [v, kid, id, exp, issuer, sig],
      ['nonsense'],
    ]) {
      const res = await anonymous().fetch(`/api/v1/shared/${bad.join('.')}`);
      expect({ bad, status: res.status }).toEqual({ bad, status: 404 });
    }
    expect((await anonymous().fetch(path)).status).toBe(200);
  });

  test('links need the media of the caller and a bounded lifetime', async () => {
    expect((await a.post(`/api/v1/media/${mediaId}/download-link`, { expires_in: 604_801 })).status).toBe(400);
    expect((await a.post(`/api/v1/media/${mediaId}/download-link`, { expires_in: 0 })).status).toBe(400);
    expect((await h.as({}).post(`/api/v1/media/${mediaId}/download-link`, { expires_in: 60 })).status).toBe(401);
  });

  test('an API key mints links of at most a day, never past its own expiry; a user up to the configured maximum', async () => {
    const reader = await key(['media:read']);
    const tooLong = await reader.client.post(`/api/v1/media/${mediaId}/download-link`, { expires_in: 86_401 });
    expect({ status: tooLong.status, code: (await json(tooLong)).error?.code }).toEqual({ status: 400, code: 'VALIDATION_ERROR' });
    expect((await reader.client.post(`/api/v1/media/${mediaId}/download-link`, { expires_in: 86_400 })).status).toBe(201);
    expect((await a.bearer.post(`/api/v1/media/${mediaId}/download-link`, { expires_in: 604_800 })).status).toBe(201);
    const shortLived = await key(['media:read'], new Date(Date.now() + 3_600_000).toISOString());
    expect((await shortLived.client.post(`/api/v1/media/${mediaId}/download-link`, { expires_in: 7200 })).status).toBe(400);
    expect((await shortLived.client.post(`/api/v1/media/${mediaId}/download-link`, { expires_in: 1800 })).status).toBe(201);
  });

  test("a key's links stop when it is revoked, rotated, or loses media:read", async () => {
    const mint = async (c: ApiClient) => (await json(await c.post(`/api/v1/media/${mediaId}/download-link`, { expires_in: 3600 }))).url.slice(h.url.length) as string;
    const opens = async (path: string) => (await anonymous().fetch(path)).status;

    const revoked = await key(['media:read']);
    const viaRevoked = await mint(revoked.client);
    expect(await opens(viaRevoked)).toBe(200);
    expect((await del(a, `/api/v1/api-keys/${revoked.id}`)).status).toBe(204);
    expect(await opens(viaRevoked)).toBe(404);

    const rotated = await key(['media:read', 'keys:manage']);
    const viaRotated = await mint(rotated.client);
    const rotation = await rotated.client.post(`/api/v1/api-keys/${rotated.id}/rotate`, { grace_period_seconds: 0 });
    expect(rotation.status).toBe(200);
    expect(await opens(viaRotated)).toBe(404);
    // The new secret mints links that work.
    expect(await opens(await mint(client(h.url, { apiKey: (await json(rotation)).api_key })))).toBe(200);

    const narrowed = await key(['media:read', 'jobs:read']);
    const viaNarrowed = await mint(narrowed.client);
    expect((await a.fetch(`/api/v1/api-keys/${narrowed.id}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ permissions: ['jobs:read'] }) })).status).toBe(200);
    expect(await opens(viaNarrowed)).toBe(404);
  });

  test("a user's links stop when the user is removed; every link stops when the organization is deleted", async () => {
    const t = await h.newTenant({ name: 'Short-lived org' });
    const own = (await json(await t.upload(jpeg, 'gone.jpg', 'image/jpeg'))).id;
    const inv = await json(await t.bearer.post(`/api/v1/organizations/${t.organizationId}/users`, { email: `l-${Date.now()}@example.test`, name: 'm', role: 'member' }));
    const session = await json(await h.as({}).post('/api/v1/auth/accept-invitation', { invitation_token: inv.invitation_token, password: 'member password 123' }));
    const member = client(h.url, { accessToken: session.access_token });
    const mint = async (c: ApiClient) => (await json(await c.post(`/api/v1/media/${own}/download-link`, { expires_in: 3600 }))).url.slice(h.url.length) as string;
    const byMember = await mint(member);
    const byOwner = await mint(t.bearer);
    const byKey = await mint(t);
    for (const path of [byMember, byOwner, byKey]) expect((await anonymous().fetch(path)).status).toBe(200);

    expect((await del(t.bearer, `/api/v1/organizations/${t.organizationId}/users/${session.user.id}`)).status).toBe(204);
    expect((await anonymous().fetch(byMember)).status).toBe(404);
    expect((await anonymous().fetch(byOwner)).status).toBe(200);

    expect((await del(t.bearer, `/api/v1/organizations/${t.organizationId}`)).status).toBe(204);
    for (const path of [byOwner, byKey]) expect((await anonymous().fetch(path)).status).toBe(404);
  });

  /** A new key of A's owner with these scopes. */
  async function key(permissions: string[], expiresAt?: string): Promise<{ id: string; client: ApiClient }> {
    const created = await json(await a.post('/api/v1/api-keys', { name: 'links', permissions, ...(expiresAt ? { expires_at: expiresAt } : {}) }));
    return { id: created.key_id, client: client(h.url, { apiKey: created.api_key }) };
  }
});
