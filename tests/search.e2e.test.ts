// POST /api/v1/search: full-text search over an organization's transcripts and OCR text, ranked,
// highlighted, with segment timestamps, filters and pages; tenancy and deletion.
import { readFile } from 'node:fs/promises';
import { FAKE_SPEECH, startFakeAiServer, type FakeAiServer } from './support/fake-ai-server.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { expectSchema } from './support/spec.js';
import { librivoxRecordings } from './support/speech.js';
import type { ApiClient } from './support/tenants.js';
import { renderText } from './support/text-image.js';
import { makeWav } from './support/wav.js';

let h: Harness;
let fake: FakeAiServer;
const jobs: Record<string, { jobId: string; mediaId: string }> = {};

const json = async (res: Response) => (await res.json()) as Record<string, any>;
const search = async (body: Record<string, unknown>, as: ApiClient = h): Promise<Record<string, any>> => {
  const res = await as.post('/api/v1/search', body);
  const out = await json(res);
  if (res.status === 200) expectSchema('SearchResults', out);
  return { status: res.status, ...out };
};

async function run(as: ApiClient, bytes: Buffer, name: string, actionId: string, parameters: Record<string, unknown>) {
  const upload = await as.upload(bytes, name);
  expect(upload.status).toBe(201);
  const mediaId = (await json(upload)).id;
  const submitted = await as.post('/api/v1/process', { media_id: mediaId, action_id: actionId, parameters });
  expect(submitted.status).toBe(202);
  const { id } = await json(submitted);
  const job = await waitFor(async () => {
    const j = await json(await as.fetch(`/api/v1/jobs/${id}`));
    return ['completed', 'failed'].includes(j.status) ? j : undefined;
  }, 120_000);
  expect(job.status).toBe('completed');
  return { jobId: id as string, mediaId: mediaId as string };
}

beforeAll(async () => {
  fake = await startFakeAiServer();
  h = await startHarness({ worker: true, env: fake.env });
  const [austen] = await librivoxRecordings();
  const wav = await makeWav(2);
  jobs.local = await run(h, await readFile(austen!.path), 'austen.wav', 'aud_transcribe', { model: 'local' });
  jobs.german = await run(h, wav, 'kenobi-de.wav', 'aud_transcribe', { model: 'whisper-1', language: 'de' });
  jobs.english = await run(h, wav, 'kenobi-en.wav', 'aud_transcribe', { model: 'whisper-1', language: 'en' });
  jobs.ocr = await run(h, await renderText(['MEDIAFLOW']), 'word.png', 'img_ocr', { provider: 'tesseract' });
});
afterAll(async () => {
  await h?.stop();
  await fake?.close();
});

test('a word of a real recording: ranked, highlighted, with the timestamp of the segment that says it', async () => {
  const t = await json(await h.fetch(`/api/v1/transcriptions/${jobs.local!.jobId}`));
  const segment = t.segments.find((s: { text: string }) => /\bconsider\b/.test(s.text));
  expect(segment).toBeDefined();

  const found = await search({ query: 'Consider' });
  expect(found).toMatchObject({ status: 200, total: 1, limit: 20, offset: 0 });
  expect(found.query_time).toMatch(/^\d+\.\d{3}s$/);
  const [hit] = found.results;
  expect(hit).toMatchObject({ job_id: jobs.local!.jobId, media_id: jobs.local!.mediaId, filename: 'austen.wav', media_type: 'audio', action_id: 'aud_transcribe', language: 'en', model: 'pocketsphinx-en-us' });
  expect(hit.relevance_score).toBeGreaterThan(0);
  expect(hit.relevance_score).toBeLessThanOrEqual(1);
  expect(hit.highlight).toContain('<mark>consider</mark>');
  expect(hit.matches).toEqual([expect.objectContaining({ text: segment.text, timestamp: segment.start, end: segment.end, highlight: expect.stringContaining('<mark>consider</mark>') })]);
});

test('web-search syntax: all words, phrases, or, exclusion; OCR text is found too, without timestamps', async () => {
  expect((await search({ query: 'general kenobi' })).total).toBe(2);
  expect((await search({ query: '"kenobi general"' })).total).toBe(0);
  expect((await search({ query: 'kenobi -general' })).total).toBe(0);
  expect((await search({ query: 'mediaflow or consider' })).total).toBe(2);
  const ocr = await search({ query: 'mediaflow' });
  expect(ocr.results).toEqual([expect.objectContaining({ job_id: jobs.ocr!.jobId, media_type: 'image', action_id: 'img_ocr', matches: [] })]);
  expect(ocr.results[0].highlight).toContain('<mark>MEDIAFLOW</mark>');
  expect((await search({ query: 'nothing-like-this' })).results).toEqual([]);
});

test('filters: language, model, media type and date range', async () => {
  const ids = async (filters: Record<string, unknown>) => (await search({ query: 'kenobi', filters })).results.map((r: { job_id: string }) => r.job_id).sort();
  expect(await ids({ languages: ['de'] })).toEqual([jobs.german!.jobId]);
  expect(await ids({ languages: ['fr'] })).toEqual([]);
  expect(await ids({ models: ['whisper-1'] })).toEqual([jobs.german!.jobId, jobs.english!.jobId].sort());
  expect(await ids({ models: ['local'] })).toEqual([]);
  expect(await ids({ media_types: ['image'] })).toEqual([]);
  const today = new Date().toISOString().slice(0, 10);
  expect(await ids({ date_range: { start: today, end: today } })).toHaveLength(2);
  expect(await ids({ date_range: { start: '2999-01-01' } })).toEqual([]);
  expect(await ids({ date_range: { end: '2000-01-01T00:00:00Z' } })).toEqual([]);
  expect((await search({ query: 'mediaflow', filters: { media_types: ['image'] } })).total).toBe(1);
});

test('pages: limit and offset over a stable order, the total on every page', async () => {
  const first = await search({ query: 'kenobi', limit: 1 });
  const second = await search({ query: 'kenobi', limit: 1, offset: 1 });
  const past = await search({ query: 'kenobi', limit: 1, offset: 5 });
  expect([first.total, second.total, past.total]).toEqual([2, 2, 2]);
  expect(first.results).toHaveLength(1);
  expect(second.results).toHaveLength(1);
  expect(first.results[0].job_id).not.toBe(second.results[0].job_id);
  expect(past.results).toEqual([]);
});

test('bad requests are 400 with the fields named', async () => {
  for (const body of [{}, { query: '' }, { query: 'x', limit: 0 }, { query: 'x', filters: { media_types: ['video'] } }, { query: 'x', filters: { date_range: { start: 'yesterday' } } }, { query: 'x', filters: { date_range: { start: '2026-13-45' } } }]) {
    const res = await search(body);
    expect([res.status, res.error?.code]).toEqual([400, 'VALIDATION_ERROR']);
  }
});

test('another organization sees only its own transcripts; deleted recordings drop out', async () => {
  const other = await h.newTenant();
  expect((await search({ query: 'kenobi' }, other)).total).toBe(0);
  const theirs = await run(other, await makeWav(2), 'theirs.wav', 'aud_transcribe', { model: 'whisper-1' });
  const seen = await search({ query: 'kenobi' }, other);
  expect(seen.results.map((r: { job_id: string }) => r.job_id)).toEqual([theirs.jobId]);
  expect((await search({ query: 'kenobi' })).total).toBe(2);
  expect(FAKE_SPEECH.join(' ')).toContain('Kenobi');

  const deleted = await h.fetch(`/api/v1/media/${jobs.german!.mediaId}`, { method: 'DELETE' });
  expect(deleted.status).toBe(204);
  const after = await search({ query: 'kenobi' });
  expect(after.results.map((r: { job_id: string }) => r.job_id)).toEqual([jobs.english!.jobId]);
  expect((await h.fetch(`/api/v1/transcriptions/${jobs.german!.jobId}`)).status).toBe(404);
});

test('the search runs on a GIN index over the steps’ text', async () => {
  const [index] = await h.common.orm.em.fork().execute<{ indexdef: string }[]>(`select indexdef from pg_indexes where indexname = 'job_steps_text_search_index'`);
  expect(index!.indexdef).toMatch(/USING gin \(to_tsvector/);
});
