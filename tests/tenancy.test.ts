// The cross-tenant matrix: every operation that takes an id (path, query or body) is called by
// organization A with organization B's ids. Each must answer 404 NOT_FOUND and change nothing of B.
import { loadSpec, resolveRef, isObject, type Json, type JsonObject } from '../api/openapi/document.js';
import { listOperations, type Operation } from '../api/openapi/operations.js';
import { startHarness, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';
import type { ApiClient, Tenant } from './support/tenants.js';

let h: Harness;
let a: Tenant;
let b: Tenant;
const ids = { media: '', job: '', key: '', user: '' };

beforeAll(async () => {
  h = await startHarness();
  a = h.tenant;
  b = await h.newTenant({ name: 'Other org' });
  const up = await b.upload(await makeJpeg(32, 32), 'b.jpg', 'image/jpeg');
  ids.media = ((await up.json()) as { id: string }).id;
  const job = await b.post('/api/v1/process', { media_id: ids.media, action_id: 'img_resize', parameters: { width: 8 } });
  ids.job = ((await job.json()) as { id: string }).id;
  const key = await b.post('/api/v1/api-keys', { name: 'b key', permissions: ['media:read'] });
  ids.key = ((await key.json()) as { key_id: string }).key_id;
  const invited = await b.post(`/api/v1/organizations/${b.organizationId}/users`, { email: `b-${Date.now()}@example.test`, name: 'B member' });
  ids.user = ((await invited.json()) as { user: { id: string } }).user.id;
  expect(Object.values(ids).every(Boolean)).toBe(true);
});
afterAll(async () => {
  await h?.stop();
});

type Call = (c: ApiClient) => Promise<Response>;
const send = (method: string, path: string, body?: unknown): Call => (c) =>
  c.fetch(path, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });

/** operationId → the calls A makes with B's ids. Usage endpoints join here when they exist. */
const matrix: Record<string, () => Call[]> = {
  getMedia: () => [send('GET', `/api/v1/media/${ids.media}`)],
  downloadMedia: () => [send('GET', `/api/v1/media/${ids.media}/download`)],
  getMediaThumbnail: () => [send('GET', `/api/v1/media/${ids.media}/thumbnail`)],
  submitJob: () => [send('POST', '/api/v1/process', { media_id: ids.media, action_id: 'img_resize', parameters: { width: 8 } })],
  getJob: () => [send('GET', `/api/v1/jobs/${ids.job}`)],
  getJobResult: () => [send('GET', `/api/v1/jobs/${ids.job}/result`)],
  getOrganization: () => [send('GET', `/api/v1/organizations/${b.organizationId}`)],
  updateOrganization: () => [send('PUT', `/api/v1/organizations/${b.organizationId}`, { name: 'taken over' })],
  deleteOrganization: () => [send('DELETE', `/api/v1/organizations/${b.organizationId}`)],
  listOrganizationUsers: () => [send('GET', `/api/v1/organizations/${b.organizationId}/users`)],
  inviteOrganizationUser: () => [send('POST', `/api/v1/organizations/${b.organizationId}/users`, { email: `x-${Date.now()}@example.test`, name: 'x', role: 'owner' })],
  removeOrganizationUser: () => [
    send('DELETE', `/api/v1/organizations/${b.organizationId}/users/${ids.user}`),
    send('DELETE', `/api/v1/organizations/${a.organizationId}/users/${ids.user}`),
    send('DELETE', `/api/v1/organizations/${b.organizationId}/users/${b.userId}`),
  ],
  updateOrganizationUserRole: () => [
    send('PUT', `/api/v1/organizations/${b.organizationId}/users/${ids.user}/role`, { role: 'owner' }),
    send('PUT', `/api/v1/organizations/${a.organizationId}/users/${ids.user}/role`, { role: 'owner' }),
    send('PUT', `/api/v1/organizations/${a.organizationId}/users/${b.userId}/role`, { role: 'member' }),
  ],
  getApiKey: () => [send('GET', `/api/v1/api-keys/${ids.key}`)],
  updateApiKey: () => [send('PUT', `/api/v1/api-keys/${ids.key}`, { name: 'taken over', permissions: ['media:read'] })],
  revokeApiKey: () => [send('DELETE', `/api/v1/api-keys/${ids.key}`)],
  rotateApiKey: () => [send('POST', `/api/v1/api-keys/${ids.key}/rotate`, { grace_period_seconds: 60 })],
};

/** Operations taking a uuid anywhere in their request: the matrix must cover every one. */
function takesAnId(doc: JsonObject, op: Operation): boolean {
  const uuid = (schema: Json | undefined): boolean => {
    const s = schema === undefined ? undefined : resolveRef<JsonObject>(doc, schema);
    return isObject(s) && (s.format === 'uuid' || (Array.isArray(s.anyOf) && s.anyOf.some(uuid)) || (Array.isArray(s.oneOf) && s.oneOf.some(uuid)));
  };
  if (op.parameters.some((p) => uuid(p.schema))) return true;
  const body = op.body?.contentTypes['application/json'];
  const schema = body === undefined ? undefined : resolveRef<JsonObject>(doc, body);
  return isObject(schema) && isObject(schema.properties) && Object.values(schema.properties).some(uuid);
}

test('every operation taking an id is in the matrix', () => {
  const doc = loadSpec();
  const idTaking = listOperations(doc).filter((op) => takesAnId(doc, op)).map((op) => op.operationId);
  expect(idTaking.length).toBeGreaterThan(10);
  expect(idTaking.filter((id) => !(id in matrix))).toEqual([]);
});

/** Everything of B, as stored: compared before and after each call. */
async function snapshotOfB(): Promise<unknown> {
  const em = h.common.orm.em.fork();
  const q = (sql: string) => em.execute(sql, [b.organizationId]);
  return {
    org: await q(`select * from organizations where id = ?`),
    users: await q(`select * from users where organization_id = ? order by id`),
    keys: await q(`select * from api_keys where organization_id = ? order by id`),
    media: await q(`select * from media_files where organization_id = ? order by id`),
    jobs: await q(`select id, status, organization_id, user_id, api_key_id, parameters from processing_jobs where organization_id = ? order by id`),
    sessions: await q(`select t.* from refresh_tokens t join users u on u.id = t.user_id where u.organization_id = ? order by t.id`),
  };
}

describe('A reaching B by id', () => {
  test.each(Object.keys(matrix))('%s answers 404 NOT_FOUND and changes nothing', async (operationId) => {
    for (const call of matrix[operationId]!()) {
      const before = await snapshotOfB();
      // A's owner, signed in with a bearer token: every permission, so only tenancy can refuse.
      const res = await call(a.bearer);
      const body = (await res.json()) as { error?: { code?: string } };
      expect({ operationId, status: res.status, code: body.error?.code }).toEqual({ operationId, status: 404, code: 'NOT_FOUND' });
      expect(await snapshotOfB()).toEqual(before);
    }
  });

  test("B's credentials and data still work for B, and never show up in A's lists", async () => {
    expect((await b.fetch(`/api/v1/media/${ids.media}`)).status).toBe(200);
    expect((await b.fetch(`/api/v1/api-keys/${ids.key}`)).status).toBe(200);
    const keys = (await (await a.fetch('/api/v1/api-keys')).json()) as { api_keys: { key_id: string }[] };
    expect(keys.api_keys.map((k) => k.key_id)).not.toContain(ids.key);
    const users = (await (await a.fetch(`/api/v1/organizations/${a.organizationId}/users`)).json()) as { users: { id: string }[] };
    expect(users.users.map((u) => u.id)).not.toContain(ids.user);
  });
});
