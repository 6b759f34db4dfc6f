// Transcription end to end: real speech (LibriVox) on the local engine with no AI key configured,
// one transcript shape for every provider, GET /transcriptions, exports, and model choice.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobEventSchema } from '#entities/index.js';
import { FAKE_SPEECH, OPENAI_KEY, startFakeAiServer, type FakeAiServer } from './support/fake-ai-server.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { expectSchema } from './support/spec.js';
import { concatAudio, librivoxRecordings, wordErrorRate, type Recording } from './support/speech.js';

let h: Harness;
let fake: FakeAiServer;
let dir: string;
let recordings: Recording[];
let speech: Buffer;
// One local transcription for the tests that read it (decoding takes a few seconds).
let localJob: Record<string, any>;

const json = async (res: Response) => (await res.json()) as Record<string, any>;

beforeAll(async () => {
  fake = await startFakeAiServer();
  // The fake answers OpenAI's protocol, but no key is configured: only a request's own key reaches it.
  h = await startHarness({ worker: true, env: { ...fake.env, OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '' } });
  dir = await mkdtemp(join(tmpdir(), 'mf-transcription-'));
  recordings = await librivoxRecordings();
  speech = await readFile(await concatAudio(join(dir, 'librivox.wav'), recordings.map((r) => r.path), { extra: ['-c:a', 'pcm_s16le'] }));
});
afterAll(async () => {
  await h?.stop();
  await fake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});
beforeEach(() => fake.reset());

async function upload(bytes: Buffer, name: string): Promise<string> {
  const res = await h.upload(bytes, name);
  expect(res.status).toBe(201);
  return (await json(res)).id;
}

async function submit(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
  return h.fetch('/api/v1/process', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

async function finished(id: string): Promise<Record<string, any>> {
  return waitFor(async () => {
    const job = await json(await h.fetch(`/api/v1/jobs/${id}`));
    return ['completed', 'failed', 'cancelled'].includes(job.status) ? job : undefined;
  }, 120_000);
}

test('real speech with no AI key: the local engine transcribes it, with progress, and GET /transcriptions gives the one shape', async () => {
  const mediaId = await upload(speech, 'austen.wav');
  const submitted = await submit({ media_id: mediaId, action_id: 'aud_transcribe' });
  expect(submitted.status).toBe(202);
  localJob = await finished((await json(submitted)).id);
  expect(localJob).toMatchObject({ status: 'completed' });
  expect(fake.requests).toHaveLength(0);

  const res = await h.fetch(`/api/v1/transcriptions/${localJob.id}`);
  expect(res.status).toBe(200);
  const t = await json(res);
  expectSchema('Transcription', t);
  expect(t).toMatchObject({ job_id: localJob.id, media_id: mediaId, action_id: 'aud_transcribe', provider: 'local', model: 'pocketsphinx-en-us', requested_model: 'auto', language: 'en' });
  expect(t.duration).toBeCloseTo(24.73, 1);
  const reference = recordings.map((r) => r.reference).join(' ');
  expect(wordErrorRate(reference, t.text).wer).toBeLessThan(0.5);
  // The decoder cuts utterances at pauses: several segments, not one.
  expect(t.segments.length).toBeGreaterThanOrEqual(2);
  const words = t.segments.flatMap((s: { words: unknown[] }) => s.words);
  expect(t.word_count).toBe(words.length);
  expect(t.confidence).toBeGreaterThan(0.3);
  // The last sentence is at the end of the recording, not at the start of its own file.
  expect(t.segments.at(-1).end).toBeGreaterThan(20);
  expect(t.segments.at(-1).end).toBeLessThanOrEqual(t.duration + 0.01);

  const progress = await h.common.orm.em.fork().find(JobEventSchema, { job: localJob.id, type: 'progress' }, { orderBy: { id: 'asc' } });
  const steps = progress.map((e) => Number(e.data.step_progress));
  // Downloaded, then the decoder's own progress while it ran, not only a start and an end.
  expect(steps.filter((p) => p > 0.15 && p < 0.9).length).toBeGreaterThanOrEqual(2);
  expect(steps).toEqual([...steps].sort((a, b) => a - b));
});

test('the exports use the transcript: SRT cues are the segments; the formats say which keep timestamps', async () => {
  const t = await json(await h.fetch(`/api/v1/transcriptions/${localJob.id}`));
  const srt = await (await h.fetch(`/api/v1/jobs/${localJob.id}/result?format=srt`)).text();
  const cues = srt.trim().split('\n\n');
  expect(cues).toHaveLength(t.segments.filter((s: { text: string }) => s.text).length);
  expect(cues[0]).toMatch(/^1\n00:00:00,\d{3} --> 00:00:0\d,\d{3}\n\S/);
  expect(cues.at(-1)).toContain(t.segments.at(-1).text);

  const res = await h.fetch('/api/v1/export/formats');
  const { formats } = await json(res);
  expect(formats.map((f: Record<string, unknown>) => [f.name, f.mime_type, f.supports_timestamps])).toEqual([
    ['txt', 'text/plain', false],
    ['srt', 'application/x-subrip', true],
    ['vtt', 'text/vtt', true],
    ['json', 'application/json', true],
  ]);
  for (const f of formats) expect(f.description).toEqual(expect.any(String));
});

test('model choice: a Whisper size without an OpenAI key is a clear 400; with the request’s own key it runs on OpenAI as whisper-1', async () => {
  const mediaId = await upload(await readFile(recordings[1]!.path), 'short.wav');
  const refused = await submit({ media_id: mediaId, action_id: 'aud_transcribe', parameters: { model: 'medium' } });
  expect(refused.status).toBe(400);
  const error = (await json(refused)).error;
  expect(error.code).toBe('VALIDATION_ERROR');
  expect(error.details.fields).toEqual([expect.objectContaining({ field: 'parameters.model', message: expect.stringContaining('no OpenAI key') })]);
  const german = await submit({ media_id: mediaId, action_id: 'aud_transcribe', parameters: { model: 'local', language: 'de' } });
  expect(german.status).toBe(400);
  expect((await json(german)).error.details.fields[0].field).toBe('parameters.language');

  const accepted = await submit({ media_id: mediaId, action_id: 'aud_transcribe', parameters: { model: 'medium' } }, { 'x-openai-api-key': OPENAI_KEY });
  expect(accepted.status).toBe(202);
  const job = await finished((await json(accepted)).id);
  expect(job.status).toBe('completed');
  expect(fake.requests.map((r) => r.fields?.model)).toEqual(['whisper-1']);
  const t = await json(await h.fetch(`/api/v1/transcriptions/${job.id}`));
  expectSchema('Transcription', t);
  expect(t).toMatchObject({ provider: 'openai', model: 'whisper-1', requested_model: 'medium', text: FAKE_SPEECH.join(' '), word_count: 4 });
  expect(t.segments[0].words.map((w: { word: string }) => w.word)).toEqual(['Hello', 'there']);
});

test('another organization, an unknown job and a job without a transcript answer 404', async () => {
  const other = await h.newTenant();
  expect((await other.fetch(`/api/v1/transcriptions/${localJob.id}`)).status).toBe(404);
  expect((await h.fetch('/api/v1/transcriptions/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  const mediaId = await upload(await readFile(recordings[1]!.path), 'analyze.wav');
  const analyzed = await finished((await json(await submit({ media_id: mediaId, action_id: 'aud_analyze' }))).id);
  expect(analyzed.status).toBe('completed');
  const res = await h.fetch(`/api/v1/transcriptions/${analyzed.id}`);
  expect(res.status).toBe(404);
  expect((await json(res)).error.code).toBe('NOT_FOUND');
});
