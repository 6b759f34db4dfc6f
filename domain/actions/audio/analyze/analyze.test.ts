import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAjv } from '#lib/ajv.js';
import { actionRunner } from '../../../../tests/support/action-run.js';
import { loudness, makeAudio, silence, tone } from '../../../../tests/support/audio.js';
import { expectFormReady } from '../../../../tests/support/action-run.js';
import analyze from './analyze.js';

const runner = actionRunner(analyze);
const validateOutput = createAjv().compile(analyze.outputSchema);
let dir: string;
let tagged: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mf-analyze-'));
  // tone 2 s, silence 3 s, tone 2 s, with ID3 tags
  tagged = await makeAudio(join(dir, 'tagged.mp3'), [tone(2), silence(3), tone(2)], {
    extra: ['-metadata', 'title=Test Tone', '-metadata', 'artist=Mediaflow', '-metadata', 'album=Fixtures', '-metadata', 'date=2024', '-metadata', 'genre=Test', '-metadata', 'track=3'],
  });
});
afterAll(async () => {
  await runner.cleanup();
  await rm(dir, { recursive: true, force: true });
});

async function analysis(input: string, params: Record<string, unknown> = {}) {
  const out = await runner.run(input, params);
  if (out.type !== 'json') throw new Error('expected json');
  // The result travels through Temporal and Postgres as JSON, and must match the declared schema.
  const data = JSON.parse(JSON.stringify(out.data)) as Record<string, any>;
  expect(data).toEqual(out.data);
  expect(validateOutput(data) ? [] : validateOutput.errors).toEqual([]);
  return data;
}

test('properties, loudness, silence and tags of an MP3', async () => {
  const data = await analysis(tagged);
  expect(data).toMatchObject({ container: 'mp3', codec: 'mp3', sample_rate: 44100, channels: 1, channel_layout: 'mono' });
  expect(Math.abs(data.duration_seconds - 7)).toBeLessThan(0.1);
  expect(Math.abs(data.bitrate - 128_000)).toBeLessThan(8_000);
  const measured = await loudness(tagged);
  expect(Math.abs(data.loudness.integrated_lufs - measured.integrated)).toBeLessThan(0.5);
  expect(Math.abs(data.loudness.true_peak_dbtp - measured.truePeak)).toBeLessThan(0.5);
  expect(data.loudness.loudness_range_lu).toEqual(expect.any(Number));

  expect(data.silence.segments).toHaveLength(1);
  const [gap] = data.silence.segments;
  expect(Math.abs(gap.start - 2)).toBeLessThan(0.1);
  expect(Math.abs(gap.end - 5)).toBeLessThan(0.1);
  expect(gap.duration).toBeCloseTo(gap.end - gap.start, 2);
  expect(data.silence.total_seconds).toBeCloseTo(gap.duration, 2);

  expect(data.tags).toEqual({ title: 'Test Tone', artist: 'Mediaflow', album: 'Fixtures', year: 2024, genre: 'Test', track: 3 });
});

test('silence parameters: a high threshold hears the tone as silence, a long minimum finds no gap', async () => {
  const loudThreshold = await analysis(tagged, { silence_threshold_db: -10 });
  expect(loudThreshold.silence.segments).toHaveLength(1);
  expect(loudThreshold.silence.total_seconds).toBeGreaterThan(6.8);
  const longMinimum = await analysis(tagged, { min_silence_duration: 4 });
  expect(longMinimum.silence).toEqual({ segments: [], total_seconds: 0 });
});

test('a silent WAV has no loudness and is silent throughout; trailing silence is closed at the end', async () => {
  const quiet = await makeAudio(join(dir, 'silence.wav'), [silence(3)], { channels: 2 });
  const data = await analysis(quiet);
  expect(data).toMatchObject({ container: 'wav', codec: 'pcm_s16le', channels: 2, tags: {} });
  expect(data.loudness).toEqual({ integrated_lufs: null, true_peak_dbtp: null, loudness_range_lu: expect.any(Number), rms_dbfs: null });
  expect(data.silence.segments).toEqual([{ start: 0, end: 3, duration: 3 }]);

  const endsQuiet = await analysis(await makeAudio(join(dir, 'ends-quiet.flac'), [tone(1), silence(2)]));
  expect(endsQuiet.silence.segments).toHaveLength(1);
  expect(Math.abs(endsQuiet.silence.segments[0].start - 1)).toBeLessThan(0.05);
  expect(endsQuiet.silence.segments[0].end).toBeCloseTo(3, 1);
});

test('an M4A with tags', async () => {
  const m4a = await makeAudio(join(dir, 'tagged.m4a'), [tone(3)], { channels: 2, extra: ['-metadata', 'title=Podcast', '-metadata', 'artist=Someone'] });
  const data = await analysis(m4a);
  expect(data).toMatchObject({ container: 'mov,mp4,m4a,3gp,3g2,mj2', codec: 'aac', channels: 2, tags: { title: 'Podcast', artist: 'Someone' } });
  expect(data.silence.segments).toEqual([]);
});

test('parameters', () => {
  expectFormReady(analyze);
  expect(runner.problems({ silence_threshold_db: 5 })).toContain('parameters.silence_threshold_db');
  expect(runner.problems({ min_silence_duration: 0 })).toContain('parameters.min_silence_duration');
  expect(runner.problems({ extra: true })).toContain('parameters.extra');
});
