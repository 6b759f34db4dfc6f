import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeAudio, probe, silence, tone } from './support/audio.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { stepRuns } from './support/history.js';

let h: Harness;
let dir: string;
let media: Record<string, any>;
beforeAll(async () => {
  h = await startHarness({ worker: true, env: { MAX_AUDIO_DURATION_MINUTES: '1' } });
  dir = await mkdtemp(join(tmpdir(), 'mf-audio-e2e-'));
  // 2 s tone, 2 s silence, 2 s tone, stereo 44.1 kHz
  const wav = await readFile(await makeAudio(join(dir, 'upload.wav'), [tone(2), silence(2), tone(2)], { channels: 2 }));
  const res = await h.upload(wav, 'interview.wav', 'audio/wav');
  expect(res.status).toBe(201);
  media = await json(res);
  expect(media).toMatchObject({ media_type: 'audio', mime_type: 'audio/wav', file_size_bytes: wav.length });
});
afterAll(async () => {
  await h?.stop();
  await rm(dir, { recursive: true, force: true });
});

const json = async (res: Response) => (await res.json()) as Record<string, any>;

async function runJob(actionId: string, parameters: Record<string, unknown>): Promise<Record<string, any>> {
  const submitted = await h.post('/api/v1/process', { media_id: media.id, action_id: actionId, parameters });
  expect(submitted.status).toBe(202);
  const { id } = await json(submitted);
  return waitFor(async () => {
    const job = await json(await h.fetch(`/api/v1/jobs/${id}`));
    return ['completed', 'failed'].includes(job.status) ? job : undefined;
  });
}

/** Downloads a file result and probes it. */
async function resultFile(jobId: string, type: string, name: string) {
  const res = await h.fetch(`/api/v1/jobs/${jobId}/result`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe(type);
  const path = join(dir, name);
  await writeFile(path, Buffer.from(await res.arrayBuffer()));
  return probe(path);
}

test('aud_trim keeps the WAV format and the requested range', async () => {
  const job = await runJob('aud_trim', { start: 1, duration: 2 });
  expect(job).toMatchObject({ status: 'completed', progress: 1, result: { type: 'file', mime_type: 'audio/wav' } });
  expect(job.parameters).toMatchObject({ start: 1, duration: 2, fade_in: 0, fade_out: 0, format: 'original' });
  const probed = await resultFile(job.id, 'audio/wav', 'trimmed.wav');
  expect(probed.stream).toMatchObject({ codec_name: 'pcm_s16le', sample_rate: 44100, channels: 2 });
  expect(probed.format.duration).toBeCloseTo(2, 2);
});

test('aud_format_convert to MP3', async () => {
  const job = await runJob('aud_format_convert', { format: 'mp3', bitrate: '128k' });
  expect(job).toMatchObject({ status: 'completed', result: { type: 'file', mime_type: 'audio/mpeg' } });
  const probed = await resultFile(job.id, 'audio/mpeg', 'converted.mp3');
  expect(probed.stream).toMatchObject({ codec_name: 'mp3', sample_rate: 44100, channels: 2 });
  expect(Math.abs(probed.format.duration - 6)).toBeLessThan(0.1);
});

test('aud_analyze reports properties, loudness and the silent gap', async () => {
  const job = await runJob('aud_analyze', {});
  expect(job).toMatchObject({ status: 'completed', parameters: { silence_threshold_db: -50, min_silence_duration: 0.5 } });
  const res = await h.fetch(`/api/v1/jobs/${job.id}/result`);
  expect(res.status).toBe(200);
  const data = await json(res);
  expect(data).toMatchObject({ container: 'wav', codec: 'pcm_s16le', sample_rate: 44100, channels: 2, duration_seconds: 6 });
  expect(data.loudness.integrated_lufs).toBeLessThan(-15);
  expect(data.loudness.integrated_lufs).toBeGreaterThan(-30);
  expect(data.silence.segments).toHaveLength(1);
  expect(data.silence.segments[0].start).toBeCloseTo(2, 1);
  expect(data.silence.segments[0].end).toBeCloseTo(4, 1);
});

test('a start past the end fails the job as bad input without retries', async () => {
  const job = await runJob('aud_trim', { start: 30, duration: 1 });
  expect(job).toMatchObject({ status: 'failed', error: { code: 'INVALID_INPUT', message: expect.stringContaining('beyond the end') } });
  expect(await stepRuns(h.temporal, `job-${job.id}`)).toBe(1);
});

test('audio longer than MAX_AUDIO_DURATION_MINUTES is refused at upload, naming the limit', async () => {
  const long = await readFile(await makeAudio(join(dir, 'long.wav'), [tone(65)], { rate: 8000 }));
  const res = await h.upload(long, 'long.wav', 'audio/wav');
  expect(res.status).toBe(400);
  expect((await json(res)).error).toMatchObject({ code: 'VALIDATION_ERROR', details: { limit: 'max_duration_minutes', max: 1 } });
});

test('parameters an audio action does not accept are a 400', async () => {
  const res = await h.post('/api/v1/process', { media_id: media.id, action_id: 'aud_format_convert', parameters: { format: 'ogg', sample_rate: 44100 } });
  expect(res.status).toBe(400);
  const body = await json(res);
  expect(body.error.code).toBe('VALIDATION_ERROR');
  expect(body.error.details.fields.map((f: { field: string }) => f.field)).toContain('parameters.sample_rate');
});
