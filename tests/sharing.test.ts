// Sharing a media file with a user or another organization, and time-limited signed download links.
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
  const res = await a.post(`/api/v1/media/${mediaId}/shares`, { user_id: b.userId, expires_at: new Date(Date.now() + 1500).toISOString() });
  expect(res.status).toBe(201);
  expect(await reads(b)).toEqual(all);
  expect(await reads(b.bearer)).toEqual(all);
  expect(await reads(c)).toEqual(none);
  await new Promise((r) => setTimeout(r, 1600));
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
    { user_id: '00000000-0000-4000-8000-0000000000ff' },
    { organization_id: b.organizationId, expires_at: new Date(Date.now() - 1000).toISOString() },
  ]) {
    const r = await a.post(`/api/v1/media/${mediaId}/shares`, bad);
    expect({ bad, status: r.status, code: (await json(r)).error?.code }).toEqual({ bad, status: 400, code: 'VALIDATION_ERROR' });
  }
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
    const [v, kid, id, exp, sig] = token.split('.') as [string, string, string, string, string];
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    const otherMedia = (await json(await a.upload(jpeg, 'other.jpg', 'image/jpeg'))).id;
    for (const bad of [
      [v, kid, id, exp, flip(sig)],
      [v, kid, otherMedia, exp, sig],
      [v, kid, id, String(Number(exp) + 86_400), sig],
      [v, flip(kid), id, exp, sig],
      [v, kid, id, exp],
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
});
