// Organization-level AI provider keys, end to end: an org admin stores the organization's own
// OpenAI key; the organization's jobs run with it (a request header key still wins, a cleared key
// falls back to the platform's), a retry that starts a new workflow run reads it again, and it is
// readable nowhere in clear: API replies, database, workflow history without the codec, logs.
import { randomBytes } from 'node:crypto';
import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { createLogger } from '#lib/logger.js';
import { createPayloadCodec } from '#lib/payload-codec.js';
import { OPENAI_KEY, startFakeAiServer, type FakeAiServer } from './support/fake-ai-server.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { client, type ApiClient } from './support/tenants.js';
import { makeWav } from './support/wav.js';

const PLATFORM_KEY = `sk-platform-configured-${randomBytes(8).toString('hex')}`;
/** Refused by the fake provider, like the platform's: what the provider saw tells whose key was used. */
const ORG_KEY = `sk-org-stored-${randomBytes(12).toString('hex')}`;
const logLines: string[] = [];
let h: Harness;
let fake: FakeAiServer;
let wavId: string;
let keysPath: string;

beforeAll(async () => {
  fake = await startFakeAiServer();
  const logger = createLogger('trace', 'test', { write: (line: string) => void logLines.push(line) });
  // A short retry window: a failed job's workflow closes quickly, so a retry starts a new run.
  h = await startHarness({ worker: true, env: { ...fake.env, OPENAI_API_KEY: PLATFORM_KEY, JOB_RETRY_WINDOW: '1s' }, logger });
  keysPath = `/api/v1/organizations/${h.tenant.organizationId}/provider-keys`;
  const res = await h.upload(await makeWav(2), 'speech.wav');
  expect(res.status).toBe(201);
  wavId = ((await res.json()) as { id: string }).id;
});
afterAll(async () => {
  await h?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

const json = async (res: Response) => (await res.json()) as Record<string, any>;
const put = (c: ApiClient, path: string, body: unknown) =>
  c.fetch(path, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const submit = (headers: Record<string, string> = {}) =>
  h.fetch('/api/v1/process', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ media_id: wavId, action_id: 'aud_transcribe', parameters: {} }),
  });
const finished = (id: string) =>
  waitFor(async () => {
    const job = await json(await h.fetch(`/api/v1/jobs/${id}`));
    return ['completed', 'failed', 'cancelled'].includes(job.status) ? job : undefined;
  });
/** The Authorization headers the fake OpenAI saw since the last reset. */
const openaiAuth = () => new Set(fake.requests.filter((r) => r.provider === 'openai').map((r) => r.headers.authorization));

async function rowsContaining(needle: string): Promise<string[]> {
  const conn = h.common.orm.em.getConnection();
  const tables = (await conn.execute(`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`)) as {
    table_name: string;
  }[];
  expect(tables.map((t) => t.table_name)).toContain('organization_provider_keys');
  const hits: string[] = [];
  for (const { table_name } of tables) {
    const rows = (await conn.execute(`select count(*)::int as n from "${table_name}" t where t::text like ?`, [`%${needle}%`])) as { n: number }[];
    if (rows[0]!.n > 0) hits.push(table_name);
  }
  return hits;
}

test('the migration matches the entity (no pending schema diff)', async () => {
  const diff = await h.common.orm.schema.getUpdateSchemaSQL({ wrap: false });
  expect(diff.split('\n').filter((l) => /"organization_provider_keys"/.test(l))).toEqual([]);
});

test('an owner sets the key; replies show only whether it is set and its last 4 characters; it is stored encrypted', async () => {
  const unset = { set: false, preview: null, updated_at: null };
  expect(await json(await h.tenant.bearer.fetch(keysPath))).toEqual({ openai: unset, anthropic: unset });

  const res = await put(h.tenant.bearer, keysPath, { openai_api_key: ORG_KEY });
  const text = await res.text();
  expect(res.status).toBe(200);
  expect(text).not.toContain(ORG_KEY);
  const body = JSON.parse(text);
  expect(body).toEqual({ openai: { set: true, preview: `…${ORG_KEY.slice(-4)}`, updated_at: expect.any(String) }, anthropic: unset });
  const read = await h.tenant.bearer.fetch(keysPath);
  const readText = await read.text();
  expect(readText).not.toContain(ORG_KEY);
  expect(JSON.parse(readText)).toEqual(body);

  // At rest: ciphertext under the primary key's id, and no row of any table holds the key.
  expect(await rowsContaining(ORG_KEY)).toEqual([]);
  const [row] = (await h.common.orm.em.getConnection().execute(`select provider, key_id, ciphertext from organization_provider_keys where organization_id = ?`, [
    h.tenant.organizationId,
  ])) as { provider: string; key_id: string; ciphertext: string }[];
  expect(row).toMatchObject({ provider: 'openai', key_id: h.config.ai.providerKeysMasterKeys[0]!.id });
  expect(Buffer.from(row!.ciphertext.split('.')[1]!, 'base64url').toString('latin1')).not.toContain(ORG_KEY);
});

test('without org:admin: a member or a key without the scope gets 403 and changes nothing', async () => {
  const before = await json(await h.fetch(keysPath));
  const inv = await json(await h.post(`/api/v1/organizations/${h.tenant.organizationId}/users`, { email: `m-${randomBytes(4).toString('hex')}@example.test`, name: 'M', role: 'member' }));
  const session = await json(await h.as({}).post('/api/v1/auth/accept-invitation', { invitation_token: inv.invitation_token, password: 'member password 123' }));
  const member = client(h.url, { accessToken: session.access_token });
  const narrow = await json(await h.post('/api/v1/api-keys', { name: 'jobs only', permissions: ['jobs:create', 'jobs:read'] }));
  const keyed = h.as({ apiKey: narrow.api_key });
  for (const c of [member, keyed]) {
    for (const res of [await c.fetch(keysPath), await put(c, keysPath, { openai_api_key: OPENAI_KEY }), await put(c, keysPath, { openai_api_key: null })]) {
      expect({ status: res.status, code: (await json(res)).error?.code }).toEqual({ status: 403, code: 'FORBIDDEN' });
    }
  }
  expect(await json(await h.fetch(keysPath))).toEqual(before);
});

test('a malformed key is 400 VALIDATION_ERROR without echoing it, and nothing changes', async () => {
  const before = await json(await h.fetch(keysPath));
  for (const body of [
    { openai_api_key: 'not-a-key-at-all-0123456789' },
    { openai_api_key: 'sk-short' },
    { anthropic_api_key: 'sk-notanthropic-0123456789abcdef' },
    { anthropic_api_key: 'sk-ant-has spaces in it 0123456789' },
    { openai_api_key: 42 },
    {},
    { openai_api_key: OPENAI_KEY, other: 1 },
  ]) {
    const res = await put(h, keysPath, body);
    const text = await res.text();
    expect({ status: res.status, code: JSON.parse(text).error.code }).toEqual({ status: 400, code: 'VALIDATION_ERROR' });
    for (const v of Object.values(body)) if (typeof v === 'string') expect(text).not.toContain(v);
  }
  expect(await json(await h.fetch(keysPath))).toEqual(before);
});

test("a job without a header key runs with the organization's key; it is in the history only encrypted, and never logged", async () => {
  await put(h, keysPath, { openai_api_key: ORG_KEY });
  const job = await finished((await json(await submit())).id);
  // The fake provider refuses every key but OPENAI_KEY: the job fails, having presented the org key only.
  expect(job).toMatchObject({ status: 'failed', error: { code: 'AI_PROVIDER_ERROR' } });
  expect(openaiAuth()).toEqual(new Set([`Bearer ${ORG_KEY}`]));

  const plain = new Client({ connection: h.temporal.connection, namespace: h.config.temporal.namespace });
  const history = await plain.workflow.getHandle(`job-${job.id}`).fetchHistory();
  expect(Buffer.from(temporal.api.history.v1.History.encode(history).finish()).includes(ORG_KEY)).toBe(false);
  const input = history.events!.find((e) => e.workflowExecutionStartedEventAttributes)!.workflowExecutionStartedEventAttributes!.input!.payloads!;
  const opened = Buffer.from((await createPayloadCodec(h.config.temporal).decode(input))[0]!.data!).toString();
  expect(opened).toContain(ORG_KEY);

  expect(await rowsContaining(ORG_KEY)).toEqual([]);
  const logs = logLines.join('');
  expect(logs).toContain(job.id);
  expect(logs).not.toContain(ORG_KEY);
});

test("a request's header key wins over the organization's", async () => {
  await put(h, keysPath, { openai_api_key: ORG_KEY });
  const job = await finished((await json(await submit({ 'X-OpenAI-API-Key': OPENAI_KEY }))).id);
  expect({ status: job.status, error: job.error }).toEqual({ status: 'completed', error: undefined });
  expect(openaiAuth()).toEqual(new Set([`Bearer ${OPENAI_KEY}`]));
});

test("a retry that starts a new workflow run reads the organization's key again", async () => {
  await put(h, keysPath, { openai_api_key: ORG_KEY });
  const job = await finished((await json(await submit())).id);
  expect(job.status).toBe('failed');
  // The retry window (1s) ends and the workflow closes: a retry now needs a new run.
  const handle = h.temporal.workflow.getHandle(`job-${job.id}`);
  await waitFor(async () => ((await handle.describe()).status.name !== 'RUNNING' ? true : undefined));
  await put(h, keysPath, { openai_api_key: OPENAI_KEY });
  fake.reset();
  const retried = await h.post(`/api/v1/jobs/${job.id}/retry`, {});
  expect(retried.status).toBeLessThan(300);
  const after = await waitFor(async () => {
    const j = await json(await h.fetch(`/api/v1/jobs/${job.id}`));
    return j.status === 'completed' || (j.status === 'failed' && j.retry_count > 0) ? j : undefined;
  });
  expect({ status: after.status, error: after.error }).toEqual({ status: 'completed', error: undefined });
  expect(openaiAuth()).toEqual(new Set([`Bearer ${OPENAI_KEY}`]));
});

test("clearing the organization's key falls back to the platform's", async () => {
  await put(h, keysPath, { openai_api_key: ORG_KEY });
  const cleared = await json(await put(h, keysPath, { openai_api_key: null }));
  expect(cleared.openai).toEqual({ set: false, preview: null, updated_at: null });
  const job = await finished((await json(await submit())).id);
  expect(job).toMatchObject({ status: 'failed', error: { code: 'AI_PROVIDER_ERROR' } });
  expect(openaiAuth()).toEqual(new Set([`Bearer ${PLATFORM_KEY}`]));
});
