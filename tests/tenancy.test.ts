// The cross-tenant matrix: every operation that takes an id (path, query or body) is called by
// organization A with organization B's ids. Each must answer 404 NOT_FOUND and change nothing of B.
import { loadSpec, resolveRef, isObject, type Json, type JsonObject } from '#api/openapi/document.js';
import { listOperations, type Operation } from '#api/openapi/operations.js';
import { startHarness, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';
import type { ApiClient, Tenant } from './support/tenants.js';

let h: Harness;
let a: Tenant;
let b: Tenant;
const ids = { media: '', job: '', key: '', user: '', upload: '', import: '', share: '', tus: '', chunked: '', webhook: '', delivery: '', profile: '' };
/** A's own profile and job: combined with B's ids in the link calls. */
const own = { profile: '', job: '' };

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
  const presigned = await b.post('/api/v1/media/presign', { filename: 'b.jpg', size_bytes: 100, content_type: 'image/jpeg', sha256: 'a'.repeat(64) });
  ids.upload = ((await presigned.json()) as { id: string }).id;
  const imported = await b.post('/api/v1/media/import', { url: 'http://example.invalid/b.jpg' });
  ids.import = ((await imported.json()) as { id: string }).id;
  const share = await b.post(`/api/v1/media/${ids.media}/shares`, { user_id: ids.user });
  ids.share = ((await share.json()) as { id: string }).id;
  const tus = await b.fetch('/api/v1/uploads', { method: 'POST', headers: { 'tus-resumable': '1.0.0', 'upload-length': '100' } });
  ids.tus = tus.headers.get('location')!.split('/').pop()!;
  const chunked = await b.post('/api/v1/chunked-uploads', { filename: 'b.wav', file_size: 100, chunk_size: 100 });
  ids.chunked = ((await chunked.json()) as { id: string }).id;
  // B's stored key: A must neither read, replace nor clear it.
  expect((await b.fetch(`/api/v1/organizations/${b.organizationId}/provider-keys`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ openai_api_key: 'sk-b-own-key-0123456789abcdef' }) })).status).toBe(200);
  const webhook = await b.post('/api/v1/webhooks', { url: 'https://hooks.example.com/b', events: ['job.completed'] });
  ids.webhook = ((await webhook.json()) as { id: string }).id;
  // No worker here: the test delivery is stored and its workflow waits, untouched.
  const delivery = await b.post(`/api/v1/webhooks/${ids.webhook}/test`, {});
  ids.delivery = ((await delivery.json()) as { id: string }).id;
  const profile = await b.post('/api/v1/speakers/profiles', { display_name: 'B person' });
  ids.profile = ((await profile.json()) as { profile_id: string }).profile_id;
  // B's speaker link, written directly: this suite runs no worker, so no transcript exists to link through the API.
  await h.common.orm.em.getConnection().execute(
    `insert into speaker_links (organization_id, job_id, speaker_label, profile_id) values (?, ?, 'A', ?)`,
    [b.organizationId, ids.job, ids.profile],
  );
  own.profile = ((await (await a.post('/api/v1/speakers/profiles', { display_name: 'A person' })).json()) as { profile_id: string }).profile_id;
  const aMedia = ((await (await a.upload(await makeJpeg(16, 16), 'a.jpg', 'image/jpeg')).json()) as { id: string }).id;
  own.job = ((await (await a.post('/api/v1/process', { media_id: aMedia, action_id: 'img_resize', parameters: { width: 8 } })).json()) as { id: string }).id;
  expect(Object.values(ids).every(Boolean)).toBe(true);
  expect(Object.values(own).every(Boolean)).toBe(true);
});
afterAll(async () => {
  await h?.stop();
});

type Call = (c: ApiClient) => Promise<Response>;
const tusCall = (method: string, id: string, headers: Record<string, string> = {}, body?: string): Call => (c) =>
  c.fetch(`/api/v1/uploads/${id}`, { method, headers: { 'tus-resumable': '1.0.0', ...headers }, body });
const send = (method: string, path: string, body?: unknown): Call => (c) =>
  c.fetch(path, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });

/** operationId → the calls A makes with B's ids. Usage endpoints join here when they exist. */
const matrix: Record<string, () => Call[]> = {
  getMedia: () => [send('GET', `/api/v1/media/${ids.media}`)],
  downloadMedia: () => [send('GET', `/api/v1/media/${ids.media}/download`)],
  getMediaThumbnail: () => [send('GET', `/api/v1/media/${ids.media}/thumbnail`)],
  deleteMedia: () => [send('DELETE', `/api/v1/media/${ids.media}`)],
  completeMediaUpload: () => [send('POST', `/api/v1/media/${ids.upload}/complete`)],
  getMediaImport: () => [send('GET', `/api/v1/media/imports/${ids.import}`)],
  listMediaShares: () => [send('GET', `/api/v1/media/${ids.media}/shares`)],
  createMediaShare: () => [
    send('POST', `/api/v1/media/${ids.media}/shares`, { organization_id: a.organizationId }),
    send('POST', `/api/v1/media/${ids.media}/shares`, { user_id: a.userId }),
  ],
  deleteMediaShare: () => [send('DELETE', `/api/v1/media/${ids.media}/shares/${ids.share}`)],
  createDownloadLink: () => [send('POST', `/api/v1/media/${ids.media}/download-link`, { expires_in: 600 })],
  submitJob: () => [send('POST', '/api/v1/process', { media_id: ids.media, action_id: 'img_resize', parameters: { width: 8 } })],
  getJob: () => [send('GET', `/api/v1/jobs/${ids.job}`)],
  getJobResult: () => [send('GET', `/api/v1/jobs/${ids.job}/result`)],
  cancelJob: () => [send('POST', `/api/v1/jobs/${ids.job}/cancel`, { reason: 'taken over' })],
  deleteJob: () => [send('DELETE', `/api/v1/jobs/${ids.job}`)],
  retryJob: () => [send('POST', `/api/v1/jobs/${ids.job}/retry`)],
  listJobArtifacts: () => [send('GET', `/api/v1/jobs/${ids.job}/artifacts`)],
  // B's job with an id of B's (its input media): the job is not A's, whatever the artifact.
  getJobArtifact: () => [send('GET', `/api/v1/jobs/${ids.job}/artifacts/${ids.media}`)],
  streamJobEvents: () => [send('GET', `/api/v1/jobs/${ids.job}/events`)],
  getTranscription: () => [send('GET', `/api/v1/transcriptions/${ids.job}`)],
  getOrganization: () => [send('GET', `/api/v1/organizations/${b.organizationId}`)],
  updateOrganization: () => [send('PUT', `/api/v1/organizations/${b.organizationId}`, { name: 'taken over' })],
  deleteOrganization: () => [send('DELETE', `/api/v1/organizations/${b.organizationId}`)],
  getOrganizationProviderKeys: () => [send('GET', `/api/v1/organizations/${b.organizationId}/provider-keys`)],
  setOrganizationProviderKeys: () => [
    send('PUT', `/api/v1/organizations/${b.organizationId}/provider-keys`, { openai_api_key: 'sk-taken-over-0123456789abcdef' }),
    send('PUT', `/api/v1/organizations/${b.organizationId}/provider-keys`, { openai_api_key: null }),
  ],
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
  getWebhook: () => [send('GET', `/api/v1/webhooks/${ids.webhook}`)],
  updateWebhook: () => [send('PUT', `/api/v1/webhooks/${ids.webhook}`, { url: 'https://attacker.example.com/x', events: ['job.progress'] })],
  deleteWebhook: () => [send('DELETE', `/api/v1/webhooks/${ids.webhook}`)],
  rotateWebhookSecret: () => [send('POST', `/api/v1/webhooks/${ids.webhook}/rotate-secret`, { grace_period_seconds: 60 })],
  testWebhook: () => [send('POST', `/api/v1/webhooks/${ids.webhook}/test`)],
  listWebhookDeliveries: () => [send('GET', `/api/v1/webhooks/${ids.webhook}/deliveries`)],
  redeliverWebhook: () => [send('POST', `/api/v1/webhooks/${ids.webhook}/deliveries/${ids.delivery}/redeliver`)],
  uploadsHead: () => [tusCall('HEAD', ids.tus)],
  uploadsPatch: () => [tusCall('PATCH', ids.tus, { 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, 'x'.repeat(100))],
  uploadsDelete: () => [tusCall('DELETE', ids.tus)],
  getUpload: () => [send('GET', `/api/v1/uploads/${ids.tus}`), send('GET', `/api/v1/uploads/${ids.chunked}`)],
  streamUploadEvents: () => [send('GET', `/api/v1/uploads/${ids.tus}/events`), send('GET', `/api/v1/uploads/${ids.chunked}/events`)],
  getChunkedUpload: () => [send('GET', `/api/v1/chunked-uploads/${ids.chunked}`)],
  deleteChunkedUpload: () => [send('DELETE', `/api/v1/chunked-uploads/${ids.chunked}`)],
  putChunk: () => [
    (c) =>
      c.fetch(`/api/v1/chunked-uploads/${ids.chunked}/chunks/0`, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'x-chunk-sha256': '0'.repeat(64) },
        body: 'x'.repeat(100),
      }),
  ],
  getSpeakerProfile: () => [send('GET', `/api/v1/speakers/profiles/${ids.profile}`)],
  updateSpeakerProfile: () => [send('PUT', `/api/v1/speakers/profiles/${ids.profile}`, { display_name: 'taken over' })],
  deleteSpeakerProfile: () => [send('DELETE', `/api/v1/speakers/profiles/${ids.profile}`)],
  downloadSpeakerVoiceSample: () => [send('GET', `/api/v1/speakers/profiles/${ids.profile}/voice-sample`)],
  linkSpeaker: () => [
    send('POST', '/api/v1/speakers/link', { job_id: ids.job, speaker_id: 'A', user_profile_id: ids.profile }),
    send('POST', '/api/v1/speakers/link', { job_id: ids.job, speaker_id: 'A', user_profile_id: own.profile }),
    send('POST', '/api/v1/speakers/link', { job_id: own.job, speaker_id: 'A', user_profile_id: ids.profile }),
  ],
  getSpeakerMapping: () => [send('GET', `/api/v1/speakers/A/mapping?job_id=${ids.job}`)],
  unlinkSpeaker: () => [send('DELETE', `/api/v1/speakers/A/mapping?job_id=${ids.job}`)],
  finalizeChunkedUpload: () => [send('POST', `/api/v1/chunked-uploads/${ids.chunked}/finalize`, { chunk_checksums: ['0'.repeat(64)] })],
};

/** List operations filtered by an id: B's ids are filters that match nothing of A's (200, empty page). */
const lists: Record<string, () => Call[]> = {
  listJobs: () => [send('GET', `/api/v1/jobs?media_id=${ids.media}`)],
};

/** Operations taking a uuid anywhere in their request: the matrix (or the lists) must cover every one. */
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
  expect(idTaking.filter((id) => !(id in matrix) && !(id in lists))).toEqual([]);
});

/** Everything of B, as stored: compared before and after each call. */
async function snapshotOfB(): Promise<unknown> {
  const em = h.common.orm.em.fork();
  const q = (sql: string) => em.execute(sql, [b.organizationId]);
  return {
    org: await q(`select * from organizations where id = ?`),
    users: await q(`select * from users where organization_id = ? order by id`),
    // Less the metering of B's own earlier requests, which the usage buffer writes when it flushes.
    keys: (await q(`select * from api_keys where organization_id = ? order by id`)).map(({ usage_count: _count, last_used_at: _used, ...key }: Record<string, unknown>) => key),
    webhooks: await q(`select * from webhook_endpoints where organization_id = ? order by id`),
    deliveries: await q(`select * from webhook_deliveries where organization_id = ? order by id`),
    media: await q(`select * from media_files where organization_id = ? order by id`),
    upload_sessions: await q(`select * from upload_sessions where organization_id = ? order by id`),
    uploads: await q(`select * from media_uploads where organization_id = ? order by id`),
    imports: await q(`select id, status, media_id, job_id from media_imports where organization_id = ? order by id`),
    shares: await q(`select * from media_shares where organization_id = ? order by id`),
    jobs: await q(`select id, status, organization_id, user_id, api_key_id, parameters from processing_jobs where organization_id = ? order by id`),
    sessions: await q(`select t.* from refresh_tokens t join users u on u.id = t.user_id where u.organization_id = ? order by t.id`),
    provider_keys: await q(`select * from organization_provider_keys where organization_id = ? order by provider`),
    speaker_profiles: await q(`select * from speaker_profiles where organization_id = ? order by id`),
    speaker_links: await q(`select * from speaker_links where organization_id = ? order by id`),
  };
}

describe('A reaching B by id', () => {
  test.each(Object.keys(matrix))('%s answers 404 NOT_FOUND and changes nothing', async (operationId) => {
    for (const call of matrix[operationId]!()) {
      const before = await snapshotOfB();
      // A's owner, signed in with a bearer token: every permission, so only tenancy can refuse.
      const res = await call(a.bearer);
      const text = await res.text();
      // A HEAD reply has no body: its status is all there is to check.
      const code = text ? (JSON.parse(text) as { error?: { code?: string } }).error?.code : res.status === 404 && 'NOT_FOUND';
      expect({ operationId, status: res.status, code }).toEqual({ operationId, status: 404, code: 'NOT_FOUND' });
      expect(await snapshotOfB()).toEqual(before);
    }
  });

  test.each(Object.keys(lists))("%s filtered by B's ids is an empty page and changes nothing", async (operationId) => {
    for (const call of lists[operationId]!()) {
      const before = await snapshotOfB();
      const res = await call(a.bearer);
      expect({ operationId, status: res.status, body: await res.json() }).toEqual({ operationId, status: 200, body: { data: [], next_cursor: null } });
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
