// Long audio: a 60-minute recording (speech and pauses made with espeak-ng) transcribed and
// translated through the OpenAI fake with a small upload limit, and real speech on the local engine
// with short pieces. The pieces are cut at silences, transcribed (or translated) as parallel
// activities, each retried alone, and stitched with absolute times.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { JobEventSchema } from '#entities/index.js';
import { dataConverter } from '#lib/payload-codec.js';
import { keys } from '#lib/storage.js';
import { bundleOptions } from '#worker/bundle.js';
import { FAKE_SPEECH, startFakeAiServer, type FakeAiServer } from './support/fake-ai-server.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { expectSchema } from './support/spec.js';
import { concatAudio, librivoxRecordings, speak, wordErrorRate } from './support/speech.js';

const exec = promisify(execFile);
const LIMIT_BYTES = 12 * 1024 * 1024;
const LONG_SECONDS = 3595;

let h: Harness;
let fake: FakeAiServer;
let dir: string;
/** One period of the long recording: a sentence, then a pause. */
let sentenceSeconds: number;
let periodSeconds: number;
let longRecording: Buffer;

const json = async (res: Response) => (await res.json()) as Record<string, any>;
const seconds = async (path: string) => Number((await exec('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', path])).stdout);

beforeAll(async () => {
  fake = await startFakeAiServer();
  h = await startHarness({ worker: true, env: { ...fake.env, OPENAI_AUDIO_MAX_BYTES: String(LIMIT_BYTES), LOCAL_TRANSCRIBE_PIECE_SECONDS: '10' } });
  dir = await mkdtemp(join(tmpdir(), 'mf-long-audio-'));
  const sentence = await speak(join(dir, 'sentence.wav'), 'The quick brown fox jumps over the lazy dog.');
  sentenceSeconds = await seconds(sentence);
  const period = await concatAudio(join(dir, 'period.wav'), [sentence], { gapSeconds: 2, extra: ['-c:a', 'pcm_s16le'] });
  periodSeconds = await seconds(period);
  // An hour as a compact MP3 (about 14 MB): under the upload limit, but an hour of 16 kHz pieces is ~115 MB.
  const long = join(dir, 'hour.mp3');
  await exec('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-stream_loop', '-1', '-i', period, '-t', String(LONG_SECONDS), '-ac', '1', '-ar', '16000', '-c:a', 'libmp3lame', '-b:a', '32k', long]);
  longRecording = await readFile(long);
});
afterAll(async () => {
  await h?.stop();
  await fake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});
beforeEach(() => fake.reset());

async function transcribe(bytes: Buffer, name: string, parameters: Record<string, unknown>, actionId = 'aud_transcribe'): Promise<Record<string, any>> {
  const upload = await h.upload(bytes, name);
  expect(upload.status).toBe(201);
  const submitted = await h.post('/api/v1/process', { media_id: (await json(upload)).id, action_id: actionId, parameters });
  expect(submitted.status).toBe(202);
  const { id } = await json(submitted);
  return waitFor(async () => {
    const job = await json(await h.fetch(`/api/v1/jobs/${id}`));
    return ['completed', 'failed', 'cancelled'].includes(job.status) ? job : undefined;
  }, 300_000, 500);
}

/** Each activity type's attempts in a workflow's history (the last attempt of each scheduled activity), highest first. */
async function attemptsByActivity(workflowId: string): Promise<Record<string, number[]>> {
  const events = (await h.temporal.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const types = new Map(events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes!.activityType!.name!]));
  const out: Record<string, number[]> = {};
  for (const e of events) {
    const started = e.activityTaskStartedEventAttributes;
    const type = started && types.get(String(started.scheduledEventId));
    if (type) (out[type] ??= []).push(Number(started.attempt));
  }
  for (const list of Object.values(out)) list.sort((a, b) => b - a);
  return out;
}

let cloudJobId: string;
let translateJobId: string;

test('a 60-minute recording on OpenAI with a 12 MB limit: cut at pauses, pieces in parallel, one failed piece retried alone, absolute times', async () => {
  fake.failNext('openai', 'server_error');
  const job = await transcribe(longRecording, 'hour.mp3', { model: 'whisper-1' });
  expect(job).toMatchObject({ status: 'completed' });
  cloudJobId = job.id;

  const sent = fake.requests.filter((r) => r.path === '/v1/audio/transcriptions');
  const pieces = sent.filter((r) => r.status === 200);
  // 60 minutes of 16 kHz mono is ~115 MB: at least ten pieces under 12 MB each.
  expect(pieces.length).toBeGreaterThanOrEqual(10);
  // One 500, retried once: every other piece was sent exactly once.
  expect(sent.filter((r) => r.status === 500)).toHaveLength(1);
  expect(sent).toHaveLength(pieces.length + 1);
  for (const r of pieces) {
    const file = r.files![0]!.bytes;
    expect(file.length).toBeLessThanOrEqual(LIMIT_BYTES);
    // Re-encoded to 16 kHz mono.
    expect([file.readUInt16LE(22), file.readUInt32LE(24)]).toEqual([1, 16000]);
  }

  const t = await json(await h.fetch(`/api/v1/transcriptions/${job.id}`));
  expectSchema('Transcription', t);
  expect(t.duration).toBeCloseTo(LONG_SECONDS, 0);
  // The fake says the two sentences over each piece it gets.
  expect(t.segments).toHaveLength(pieces.length * FAKE_SPEECH.length);
  expect(t.text).toBe(Array(pieces.length).fill(FAKE_SPEECH.join(' ')).join(' '));
  expect(t.segments.map((s: { id: number }) => s.id)).toEqual(t.segments.map((_: unknown, i: number) => i));
  for (let i = 1; i < t.segments.length; i++) expect(t.segments[i].start).toBeGreaterThanOrEqual(t.segments[i - 1].end - 0.001);
  expect(t.segments.at(-1).end).toBeCloseTo(LONG_SECONDS, 0);
  // Every piece after the first starts in a pause between two sentences, never inside one.
  const offsets = t.segments.filter((_: unknown, i: number) => i % FAKE_SPEECH.length === 0).map((s: { start: number }) => s.start);
  for (const offset of offsets.slice(1)) {
    const intoPeriod = offset % periodSeconds;
    expect(intoPeriod).toBeGreaterThanOrEqual(sentenceSeconds - 0.05);
    expect(intoPeriod).toBeLessThanOrEqual(periodSeconds + 0.05);
  }
  const srt = await (await h.fetch(`/api/v1/jobs/${job.id}/result?format=srt`)).text();
  expect(srt.trim().split('\n\n').at(-1)).toMatch(/^\d+\n00:5\d:\d\d,\d{3} --> 00:59:5\d,\d{3}\n/);

  // Progress moved while the pieces ran, and the pieces are gone from storage.
  const events = await h.common.orm.em.fork().find(JobEventSchema, { job: job.id, type: 'progress' }, { orderBy: { id: 'asc' } });
  const during = new Set(events.map((e) => Number(e.data.step_progress)).filter((p) => p > 0.1 && p < 0.95));
  expect(during.size).toBeGreaterThanOrEqual(3);
  for (let i = 0; i < pieces.length + 2; i++) {
    for (const ext of ['wav', 'json'] as const) expect(await h.common.storage.stat(keys.transcriptionPiece(h.tenant.organizationId, job.id, 0, i, ext))).toBeNull();
  }
}, 300_000);

test('the 60-minute recording translated to English with a 12 MB limit: each piece to the translations endpoint, one failed piece retried alone, absolute times, billed once per piece', async () => {
  fake.failNext('openai', 'server_error');
  const job = await transcribe(longRecording, 'hour.mp3', {}, 'aud_translate');
  expect(job).toMatchObject({ status: 'completed', result: { data: { target_language: 'en', source_language: null } } });
  translateJobId = job.id;
  expectSchema('Job', job);

  const sent = fake.requests.filter((r) => r.path === '/v1/audio/translations');
  const pieces = sent.filter((r) => r.status === 200);
  expect(fake.requests.filter((r) => r.path !== '/v1/audio/translations')).toEqual([]);
  expect(pieces.length).toBeGreaterThanOrEqual(10);
  expect(job.result.data.pieces).toBe(pieces.length);
  // One 500, retried once: every other piece was sent exactly once, each a different part of the hour.
  expect(sent.filter((r) => r.status === 500)).toHaveLength(1);
  expect(sent).toHaveLength(pieces.length + 1);
  const failed = sent.find((r) => r.status === 500)!;
  expect(pieces.filter((r) => r.files![0]!.bytes.equals(failed.files![0]!.bytes))).toHaveLength(1);
  expect(new Set(pieces.map((r) => r.files![0]!.bytes.length + ':' + r.files![0]!.bytes.subarray(-4096).toString('base64'))).size).toBe(pieces.length);
  // Retried alone: one piece activity ran twice, every other one once, and the plan and the stitch
  // once. (The job completes with the stitch; the workflow then removes the pieces and closes.)
  await h.temporal.workflow.getHandle(`job-${job.id}`).result();
  expect(await attemptsByActivity(`job-${job.id}`)).toMatchObject({
    planTranscriptionPieces: [1],
    transcribePiece: [2, ...Array(pieces.length - 1).fill(1)],
    stitchTranscription: [1],
    removeTranscriptionPieces: [1],
  });
  for (const r of pieces) {
    const file = r.files![0]!.bytes;
    expect(file.length).toBeLessThanOrEqual(LIMIT_BYTES);
    expect([file.readUInt16LE(22), file.readUInt32LE(24)]).toEqual([1, 16000]);
    expect(r.fields).toMatchObject({ model: 'whisper-1', response_format: 'verbose_json' });
  }

  const t = await json(await h.fetch(`/api/v1/transcriptions/${job.id}`));
  expectSchema('Transcription', t);
  expect(t.duration).toBeCloseTo(LONG_SECONDS, 0);
  expect(t.segments).toHaveLength(pieces.length * FAKE_SPEECH.length);
  expect(t.text).toBe(Array(pieces.length).fill(FAKE_SPEECH.join(' ')).join(' '));
  expect(t.segments.map((s: { id: number }) => s.id)).toEqual(t.segments.map((_: unknown, i: number) => i));
  for (let i = 1; i < t.segments.length; i++) expect(t.segments[i].start).toBeGreaterThanOrEqual(t.segments[i - 1].end - 0.001);
  expect(t.segments.at(-1).end).toBeCloseTo(LONG_SECONDS, 0);
  // The pieces start in the pauses, as the transcription's do.
  const offsets = t.segments.filter((_: unknown, i: number) => i % FAKE_SPEECH.length === 0).map((s: { start: number }) => s.start);
  expect(offsets[0]).toBe(0);
  for (const offset of offsets.slice(1)) {
    const intoPeriod = offset % periodSeconds;
    expect(intoPeriod).toBeGreaterThanOrEqual(sentenceSeconds - 0.05);
    expect(intoPeriod).toBeLessThanOrEqual(periodSeconds + 0.05);
  }
  // Billed as the pieces were: whisper-1 by their seconds, which add up to the hour.
  expect(job.result.data.usage).toMatchObject({ provider: 'openai', model: 'whisper-1' });
  expect(job.result.data.usage.audio_seconds).toBeCloseTo(LONG_SECONDS, 0);
  const vtt = await (await h.fetch(`/api/v1/jobs/${job.id}/result?format=vtt`)).text();
  expect(vtt.trim().split('\n\n').at(-1)).toMatch(/^00:5\d:\d\d\.\d{3} --> 00:59:5\d\.\d{3}\n/);

  const events = await h.common.orm.em.fork().find(JobEventSchema, { job: job.id, type: 'progress' }, { orderBy: { id: 'asc' } });
  const during = new Set(events.map((e) => Number(e.data.step_progress)).filter((p) => p > 0.1 && p < 0.95));
  expect(during.size).toBeGreaterThanOrEqual(3);
  for (let i = 0; i < pieces.length + 2; i++) {
    for (const ext of ['wav', 'json'] as const) expect(await h.common.storage.stat(keys.transcriptionPiece(h.tenant.organizationId, job.id, 0, i, ext))).toBeNull();
  }
}, 300_000);

test('real speech on the local engine in 10-second pieces: stitched in order with absolute times, close to the reference', async () => {
  const recordings = await librivoxRecordings();
  const speech = await readFile(await concatAudio(join(dir, 'librivox.wav'), recordings.map((r) => r.path), { extra: ['-c:a', 'pcm_s16le'] }));
  const job = await transcribe(speech, 'austen.wav', { model: 'local' });
  expect(job).toMatchObject({ status: 'completed', result: { data: { provider: 'local', pieces: 3 } } });
  expect(fake.requests).toHaveLength(0);
  const t = await json(await h.fetch(`/api/v1/transcriptions/${job.id}`));
  expectSchema('Transcription', t);
  expect(wordErrorRate(recordings.map((r) => r.reference).join(' '), t.text).wer).toBeLessThan(0.55);
  const words = t.segments.flatMap((s: { words: { start: number }[] }) => s.words);
  expect(words.map((w: { start: number }) => w.start)).toEqual([...words.map((w: { start: number }) => w.start)].sort((a, b) => a - b));
  expect(t.segments.at(-1).end).toBeGreaterThan(20);
  expect(t.segments.at(-1).end).toBeLessThanOrEqual(t.duration + 0.01);
  expect(t.word_count).toBe(words.length);
});

test('the job workflows replay against the workflow code (the pieces are patched in)', async () => {
  const workflowBundle = await bundleWorkflowCode({ ...bundleOptions({ traced: false }), logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } as never });
  for (const jobId of [cloudJobId, translateJobId]) {
    const history = await h.temporal.workflow.getHandle(`job-${jobId}`).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle, dataConverter: dataConverter(h.config.temporal) }, history, `job-${jobId}`);
    const markers = history.events!.filter((e) => e.markerRecordedEventAttributes);
    expect(markers.length).toBeGreaterThanOrEqual(1);
  }
});
