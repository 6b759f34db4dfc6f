// A request's own provider keys (X-OpenAI-API-Key / X-Anthropic-API-Key) on every route that creates
// a job besides POST /process: chunked finalize and URL import. The platform's key is one the cloud
// fake refuses, so a job that completes ran with the request's key; the key is then looked for in
// the database, the logs and the workflow histories, where it must never be in clear.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { createLogger } from '#lib/logger.js';
import { OPENAI_KEY, startFakeAiServer, type FakeAiServer } from './support/fake-ai-server.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { makeWav } from './support/wav.js';

const PLATFORM_KEY = `sk-platform-refused-${randomBytes(8).toString('hex')}`;
const logLines: string[] = [];
let h: Harness;
let fake: FakeAiServer;
let wav: Buffer;
let origin: Server;
let originUrl: string;

const json = async (res: Response) => (await res.json()) as Record<string, any>;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const TRANSCRIBE = { action_id: 'aud_transcribe', parameters: { model: 'whisper-1' } };

beforeAll(async () => {
  fake = await startFakeAiServer();
  wav = await makeWav(2);
  origin = createServer((req, res) => {
    if (req.url === '/talk.wav') return void res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': wav.length }).end(wav);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  const logger = createLogger('trace', 'test', { write: (line: string) => void logLines.push(line) });
  h = await startHarness({ worker: true, env: { ...fake.env, OPENAI_API_KEY: PLATFORM_KEY, IMPORT_ALLOWED_CIDRS: '127.0.0.1/32' }, logger });
});
afterAll(async () => {
  await h?.stop();
  await fake?.close();
  origin?.closeAllConnections();
  origin?.close();
});
beforeEach(() => fake.reset());

const finished = (id: string) =>
  waitFor(async () => {
    const job = await json(await h.fetch(`/api/v1/jobs/${id}`));
    return ['completed', 'failed', 'cancelled'].includes(job.status) ? job : undefined;
  }, 120_000);

/** A one-chunk upload, finalized with `process` and the given headers. */
async function finalize(headers: Record<string, string>): Promise<Response> {
  const init = await json(await h.post('/api/v1/chunked-uploads', { filename: 'talk.wav', file_size: wav.length, chunk_size: wav.length }));
  const put = await h.fetch(`/api/v1/chunked-uploads/${init.id}/chunks/0`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', 'x-chunk-sha256': sha256(wav) },
    body: new Uint8Array(wav),
  });
  expect(put.status).toBe(200);
  return h.fetch(`/api/v1/chunked-uploads/${init.id}/finalize`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ chunk_checksums: [sha256(wav)], process: TRANSCRIBE }),
  });
}

async function rowsContaining(needle: string): Promise<string[]> {
  const conn = h.common.orm.em.getConnection();
  const tables = await conn.execute<{ table_name: string }[]>(`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`);
  const hits: string[] = [];
  for (const { table_name } of tables) {
    const rows = await conn.execute<{ n: number }[]>(`select count(*)::int as n from "${table_name}" t where t::text like ?`, [`%${needle}%`]);
    if (rows[0]!.n > 0) hits.push(table_name);
  }
  return hits;
}

/** The workflow's whole history as the server keeps it (read without the codec). */
async function rawHistory(workflowId: string): Promise<Buffer> {
  const plain = new Client({ connection: h.temporal.connection, namespace: h.config.temporal.namespace });
  return Buffer.from(temporal.api.history.v1.History.encode(await plain.workflow.getHandle(workflowId).fetchHistory()).finish());
}

const openaiAuth = () => new Set(fake.requests.filter((r) => r.provider === 'openai').map((r) => r.headers.authorization));

test('without a header key the platform key is used (and refused by the provider): the tests below can tell whose key ran', async () => {
  const res = await finalize({});
  expect(res.status).toBe(201);
  const job = await finished((await json(res)).job.id);
  expect(job).toMatchObject({ status: 'failed', error: { code: 'AI_PROVIDER_ERROR' } });
  expect(openaiAuth()).toEqual(new Set([`Bearer ${PLATFORM_KEY}`]));
});

test("chunked finalize with X-OpenAI-API-Key: the job runs with the request's key, which is nowhere in clear", async () => {
  const res = await finalize({ 'X-OpenAI-API-Key': OPENAI_KEY });
  expect(res.status).toBe(201);
  const job = await finished((await json(res)).job.id);
  expect({ status: job.status, error: job.error }).toEqual({ status: 'completed', error: undefined });
  expect(openaiAuth()).toEqual(new Set([`Bearer ${OPENAI_KEY}`]));

  expect((await rawHistory(`job-${job.id}`)).includes(OPENAI_KEY)).toBe(false);
  expect(await rowsContaining(OPENAI_KEY)).toEqual([]);
  expect(logLines.join('')).toContain(job.id);
  expect(logLines.join('')).not.toContain(OPENAI_KEY);
});

test("URL import with X-OpenAI-API-Key: the imported file's job runs with the request's key, which is nowhere in clear", async () => {
  const res = await h.fetch('/api/v1/media/import', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'X-OpenAI-API-Key': OPENAI_KEY },
    body: JSON.stringify({ url: `${originUrl}/talk.wav`, process: TRANSCRIBE }),
  });
  expect(res.status).toBe(202);
  const importId = (await json(res)).id as string;
  const done = await waitFor(async () => {
    const r = await json(await h.fetch(`/api/v1/media/imports/${importId}`));
    return r.status === 'completed' || r.status === 'failed' ? r : undefined;
  }, 60_000);
  expect(done).toMatchObject({ status: 'completed', media_id: importId, job_id: expect.any(String) });
  const job = await finished(done.job_id);
  expect({ status: job.status, error: job.error }).toEqual({ status: 'completed', error: undefined });
  expect(openaiAuth()).toEqual(new Set([`Bearer ${OPENAI_KEY}`]));

  for (const workflowId of [`import-${importId}`, `job-${job.id}`]) expect((await rawHistory(workflowId)).includes(OPENAI_KEY)).toBe(false);
  expect(await rowsContaining(OPENAI_KEY)).toEqual([]);
  expect(logLines.join('')).not.toContain(OPENAI_KEY);
});

test('a malformed header key is 400 VALIDATION_ERROR on finalize and import, never echoed, and starts nothing', async () => {
  const bad = 'not-a-key-but-long-enough-0123456789';
  const jobs = async () => (await h.common.orm.em.getConnection().execute<{ n: number }[]>(`select count(*)::int as n from processing_jobs where organization_id = ?`, [h.tenant.organizationId]))[0]!.n;
  const before = await jobs();
  const finalized = await finalize({ 'X-OpenAI-API-Key': bad });
  const imported = await h.fetch('/api/v1/media/import', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'X-Anthropic-API-Key': bad },
    body: JSON.stringify({ url: `${originUrl}/talk.wav`, process: TRANSCRIBE }),
  });
  for (const res of [finalized, imported]) {
    const text = await res.text();
    expect({ status: res.status, code: JSON.parse(text).error.code }).toEqual({ status: 400, code: 'VALIDATION_ERROR' });
    expect(text).not.toContain(bad);
  }
  expect(await jobs()).toBe(before);
});
