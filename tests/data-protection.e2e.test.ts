// Temporal payload encryption and per-request provider keys, end to end: a job submitted with the
// caller's own OpenAI key runs with that key, and neither the key, the parameters nor the result
// can be read from workflow history without the codec, from the database, or from the logs.
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { createLogger } from '#lib/logger.js';
import { createPayloadCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA } from '#lib/payload-codec.js';
import { FAKE_SPEECH, OPENAI_KEY, startFakeAiServer, type FakeAiServer } from './support/fake-ai-server.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { platformAdmin } from './support/platform-admin.js';
import { registerTenant } from './support/tenants.js';
import { makeWav } from './support/wav.js';

const adminEmail = `operator-${randomUUID()}@example.test`;
const PLATFORM_KEY = `sk-platform-configured-${randomBytes(8).toString('hex')}`;
const logLines: string[] = [];
let h: Harness;
let fake: FakeAiServer;
let wavId: string;

beforeAll(async () => {
  fake = await startFakeAiServer();
  const logger = createLogger('trace', 'test', { write: (line: string) => void logLines.push(line) });
  // The platform's configured key is one the fake provider refuses; it accepts only OPENAI_KEY,
  // which the tests bring as the request's own key: a completed job proves whose key was used.
  const env = { ...fake.env, OPENAI_API_KEY: PLATFORM_KEY };
  h = await startHarness({ worker: true, env, logger });
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

function submit(parameters: Record<string, unknown>, headers: Record<string, string>) {
  return h.fetch('/api/v1/process', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ media_id: wavId, action_id: 'aud_transcribe', parameters }),
  });
}
const finished = (id: string) =>
  waitFor(async () => {
    const job = await json(await h.fetch(`/api/v1/jobs/${id}`));
    return ['completed', 'failed', 'cancelled'].includes(job.status) ? job : undefined;
  });

/** Every row of every table of the schema, as text, that contains `needle`. */
async function rowsContaining(needle: string): Promise<string[]> {
  const conn = h.common.orm.em.getConnection();
  const tables = (await conn.execute(`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`)) as {
    table_name: string;
  }[];
  expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['processing_jobs']));
  const hits: string[] = [];
  for (const { table_name } of tables) {
    const rows = (await conn.execute(`select count(*)::int as n from "${table_name}" t where t::text like ?`, [`%${needle}%`])) as { n: number }[];
    if (rows[0]!.n > 0) hits.push(table_name);
  }
  return hits;
}

test("a request's own OpenAI key is used for its job, and is nowhere in clear: history, database, logs", async () => {
  const requestKey = OPENAI_KEY;
  const marker = `prompt-marker-${randomBytes(6).toString('hex')}`;
  const submitted = await submit({ prompt: marker }, { 'X-OpenAI-API-Key': requestKey });
  expect(submitted.status).toBe(202);
  const job = await finished((await json(submitted)).id);
  expect({ status: job.status, error: job.error }).toEqual({ status: 'completed', error: undefined });

  // The fake provider saw the request's key, never the configured one.
  const calls = fake.requests.filter((r) => r.provider === 'openai');
  expect(calls.length).toBeGreaterThan(0);
  for (const call of calls) expect(call.headers.authorization).toBe(`Bearer ${requestKey}`);
  expect(JSON.stringify(fake.requests)).not.toContain(PLATFORM_KEY);

  // History as Temporal stores it, read by a client without the codec.
  const plain = new Client({ connection: h.temporal.connection, namespace: h.config.temporal.namespace });
  const history = await plain.workflow.getHandle(`job-${job.id}`).fetchHistory();
  const stored = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
  for (const secret of [requestKey, marker, FAKE_SPEECH[0]!, wavId]) expect(stored.includes(secret)).toBe(false);
  // ...although they are there, encrypted: the codec opens the workflow's input.
  const input = history.events!.find((e) => e.workflowExecutionStartedEventAttributes)!.workflowExecutionStartedEventAttributes!.input!.payloads!;
  expect(Buffer.from(input[0]!.metadata![KEY_ID_METADATA]!).toString()).toBe(h.config.temporal.codecKeys[0]!.id);
  expect(Buffer.from(input[0]!.metadata!.encoding!).toString()).toBe(ENCRYPTED_ENCODING);
  const opened = Buffer.from((await createPayloadCodec(h.config.temporal).decode(input))[0]!.data!).toString();
  expect(opened).toContain(requestKey);
  expect(opened).toContain(marker);

  // Never written to the database: no row of any table holds it (the marker, a parameter, is stored).
  expect(await rowsContaining(requestKey)).toEqual([]);
  expect(await rowsContaining(marker)).toContain('processing_jobs');

  // Nor to the logs, at trace level (the request and the job were logged).
  const logs = logLines.join('');
  expect(logs).toContain(job.id);
  expect(logs).not.toContain(requestKey);
});

test('without a request key the configured one is used (here refused by the provider)', async () => {
  const job = await finished((await json(await submit({}, {}))).id);
  expect(job).toMatchObject({ status: 'failed', error: { code: 'AI_PROVIDER_ERROR' } });
  const used = fake.requests.filter((r) => r.provider === 'openai').map((r) => r.headers.authorization);
  expect(used.length).toBeGreaterThan(0);
  expect(new Set(used)).toEqual(new Set([`Bearer ${PLATFORM_KEY}`]));
});

test('a malformed provider key is 400 VALIDATION_ERROR, does not echo the key and queues nothing', async () => {
  const count = async () =>
    ((await h.common.orm.em.getConnection().execute(`select count(*)::int as n from processing_jobs where organization_id = ?`, [h.tenant.organizationId])) as { n: number }[])[0]!.n;
  const before = await count();
  for (const [header, value] of [
    ['X-OpenAI-API-Key', 'not-a-key-at-all-0123456789'],
    ['X-OpenAI-API-Key', 'sk-short'],
    ['X-Anthropic-API-Key', 'sk-notanthropic-0123456789abcdef'],
    ['X-Anthropic-API-Key', 'sk-ant-has spaces in it 0123456789'],
  ] as const) {
    const res = await submit({}, { [header]: value });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(JSON.parse(text).error.code).toBe('VALIDATION_ERROR');
    expect(text).not.toContain(value);
  }
  expect(await count()).toBe(before);
});

describe('codec server for the Temporal Web UI', () => {
  const sample = () => ({ metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('{"secret":"codec-test"}').toString('base64') });

  test('a platform operator encodes and decodes payloads; others are refused', async () => {
    const admin = await registerTenant(h.url, { email: adminEmail });
    expect((await platformAdmin(h.config.database.url, ['grant', admin.userId])).code).toBe(0);
    const encoded = await admin.bearer.post('/api/v1/codec/encode', { payloads: [sample()] });
    expect(encoded.status).toBe(200);
    const { payloads } = await json(encoded);
    expect(Buffer.from(payloads[0].data, 'base64').toString('latin1')).not.toContain('codec-test');
    expect(Buffer.from(payloads[0].metadata[KEY_ID_METADATA], 'base64').toString()).toBe(h.config.temporal.codecKeys[0]!.id);
    const decoded = await admin.bearer.post('/api/v1/codec/decode', { payloads });
    expect(await json(decoded)).toEqual({ payloads: [sample()] });
    // Unencrypted payloads pass through; altered ones are refused.
    expect(await json(await admin.bearer.post('/api/v1/codec/decode', { payloads: [sample()] }))).toEqual({ payloads: [sample()] });
    const altered = Buffer.from(payloads[0].data, 'base64');
    altered[20]! ^= 1;
    const bad = await admin.bearer.post('/api/v1/codec/decode', { payloads: [{ ...payloads[0], data: altered.toString('base64') }] });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.code).toBe('VALIDATION_ERROR');

    // An organization owner is not a platform operator (payloads hold every tenant's data); API keys are not accepted.
    expect((await h.post('/api/v1/codec/decode', { payloads })).status).toBe(401);
    expect((await h.tenant.bearer.post('/api/v1/codec/decode', { payloads })).status).toBe(403);
    expect((await h.as({}).post('/api/v1/codec/decode', { payloads })).status).toBe(401);
  });

  test("CORS: the Web UI's origin may call it from the browser, other origins get no CORS headers", async () => {
    const preflight = (origin: string) =>
      h.as({}).fetch('/api/v1/codec/decode', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-namespace' },
      });
    const ok = await preflight('http://localhost:8233');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
    expect(ok.headers.get('access-control-allow-headers')).toContain('x-namespace');
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
