// The Temporal Web UI decoding a job's history through the API's codec endpoint, as the UI's
// browser calls it (real Temporal, Postgres, MinIO): from its origin, with credentials, carrying
// the codec session cookie a platform operator opened in the console, never a Mediaflow token.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Client } from '@temporalio/client';
import { parse } from 'yaml';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';
import { registerTenant, type Tenant } from './support/tenants.js';

const UI = 'http://localhost:8233';
const adminEmail = `operator-${randomUUID()}@example.test`;
let h: Harness;
let operator: Tenant;
let jobId: string;
beforeAll(async () => {
  h = await startHarness({ worker: true, env: { TEMPORAL_CODEC_CORS_ORIGINS: UI } });
  operator = await registerTenant(h.url, { email: adminEmail });
  // Granted out of band, as `npm run admin:grant` does.
  await h.common.orm.em.fork().execute(`update users set platform_admin = true where id = ?`, [operator.userId]);
  const media = (await (await h.upload(await makeJpeg(64, 48), 'codec.jpg', 'image/jpeg')).json()) as { id: string };
  jobId = ((await (await h.post('/api/v1/process', { media_id: media.id, action_id: 'img_metadata' })).json()) as { id: string }).id;
  await waitFor(async () => {
    const j = (await (await h.fetch(`/api/v1/jobs/${jobId}`)).json()) as { status: string };
    return j.status === 'completed' ? true : undefined;
  });
});
afterAll(async () => {
  await h?.stop();
});

/** The job's workflow input as the Web UI receives it from Temporal: encrypted, bytes in base64. */
async function storedInput() {
  const plain = new Client({ connection: h.temporal.connection, namespace: h.config.temporal.namespace });
  const history = await plain.workflow.getHandle(`job-${jobId}`).fetchHistory();
  const payloads = history.events!.find((e) => e.workflowExecutionStartedEventAttributes)!.workflowExecutionStartedEventAttributes!.input!.payloads!;
  return payloads.map((p) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])),
    data: Buffer.from(p.data!).toString('base64'),
  }));
}
/** The codec session cookie (name=value) from a Set-Cookie reply. */
async function openSession(accessToken: string): Promise<{ res: Response; cookie?: string; attributes: string }> {
  const res = await fetch(`${h.url}/api/v1/codec/session`, { method: 'POST', headers: { authorization: `Bearer ${accessToken}` } });
  const set = res.headers.getSetCookie().find((c) => c.startsWith('mf_codec='));
  return { res, cookie: set?.split(';')[0], attributes: set ?? '' };
}
/** POST /decode as the UI's fetch sends it: its origin, the namespace, credentials (the cookie), maybe a token of its own. */
const uiDecode = (payloads: unknown, headers: Record<string, string>) =>
  fetch(`${h.url}/api/v1/codec/decode`, { method: 'POST', headers: { origin: UI, 'content-type': 'application/json', 'x-namespace': 'default', ...headers }, body: JSON.stringify({ payloads }) });

test("an operator's codec session lets the UI decode a job's input: cookie only, from the UI's origin", async () => {
  const { res, cookie, attributes } = await openSession(operator.accessToken);
  expect(res.status).toBe(204);
  expect(cookie).toMatch(/^mf_codec=v1\./);
  expect(attributes).toMatch(/path=\/api\/v1\/codec/i);
  expect(attributes).toMatch(/httponly/i);
  expect(attributes).toMatch(/samesite=lax/i);
  const expires = Date.parse(/expires=([^;]+)/i.exec(attributes)![1]!);
  expect(expires - Date.now()).toBeLessThanOrEqual(8 * 3_600_000 + 5_000);

  // The browser's preflight, then the decode call itself.
  const preflight = await fetch(`${h.url}/api/v1/codec/decode`, {
    method: 'OPTIONS',
    headers: { origin: UI, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
  });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');

  const input = await storedInput();
  expect(Buffer.from(input[0]!.data, 'base64').toString('latin1')).not.toContain(jobId);
  const decoded = await uiDecode(input, { cookie: cookie! });
  expect(decoded.status).toBe(200);
  expect(decoded.headers.get('access-control-allow-origin')).toBe(UI);
  expect(decoded.headers.get('access-control-allow-credentials')).toBe('true');
  const body = (await decoded.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
  expect(Buffer.from(body.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
  expect(JSON.parse(Buffer.from(body.payloads[0]!.data, 'base64').toString())).toMatchObject({ jobId, organizationId: h.tenant.organizationId });

  // The UI may also pass its own identity provider's token, which the API does not know: the cookie decides.
  expect((await uiDecode(input, { cookie: cookie!, authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig' })).status).toBe(200);
});

test('nobody else: no cookie, a tampered one, a non-operator, an ended session', async () => {
  const input = await storedInput();
  expect((await uiDecode(input, {})).status).toBe(401);
  const { cookie } = await openSession(operator.accessToken);
  const tampered = cookie!.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
  expect((await uiDecode(input, { cookie: tampered })).status).toBe(401);

  // An organization owner is not a platform operator.
  const refused = await openSession(h.tenant.accessToken);
  expect(refused.res.status).toBe(403);
  expect(refused.cookie).toBeUndefined();
  // API keys never open one.
  const byKey = await fetch(`${h.url}/api/v1/codec/session`, { method: 'POST', headers: { 'x-api-key': h.tenant.apiKey } });
  expect(byKey.status).toBe(401);

  // The cookie only works on the codec endpoints.
  const elsewhere = await fetch(`${h.url}/api/v1/media`, { headers: { cookie: cookie! } });
  expect(elsewhere.status).toBe(401);

  // Signing out of the session it came from ends it.
  const session = await fetch(`${h.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: adminEmail, password: operator.password }) });
  const signedIn = (await session.json()) as { access_token: string };
  const second = await openSession(signedIn.access_token);
  expect((await uiDecode(input, { cookie: second.cookie! })).status).toBe(200);
  const out = await fetch(`${h.url}/api/v1/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${signedIn.access_token}` } });
  expect(out.status).toBeLessThan(300);
  await waitFor(async () => ((await uiDecode(input, { cookie: second.cookie! })).status === 401 ? true : undefined), 10_000);
});

test('DELETE /codec/session clears the cookie', async () => {
  const res = await fetch(`${h.url}/api/v1/codec/session`, { method: 'DELETE' });
  expect(res.status).toBe(204);
  const set = res.headers.getSetCookie().find((c) => c.startsWith('mf_codec='));
  expect(set).toMatch(/^mf_codec=;/);
  expect(set).toMatch(/expires=Thu, 01 Jan 1970/i);
});

test('compose points the Web UI at the codec endpoint, with credentials', async () => {
  const compose = parse(await readFile(new URL('../docker-compose.yml', import.meta.url), 'utf8')) as { services: Record<string, { environment: Record<string, string> }> };
  expect(compose.services['temporal-ui']!.environment).toMatchObject({ TEMPORAL_CODEC_ENDPOINT: 'http://localhost:3000/api/v1/codec', TEMPORAL_CODEC_INCLUDE_CREDENTIALS: 'true' });
});
