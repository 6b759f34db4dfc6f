import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { actionRunner } from '../../../../tests/support/action-run.js';
import { makeAudio, maxVolume, probe, tone } from '../../../../tests/support/audio.js';
import { expectFormReady } from '../../../../tests/support/action-run.js';
import { ActionError } from '../../types.js';
import trim from './trim.js';

const runner = actionRunner(trim);
let dir: string;
let wav: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mf-trim-'));
  wav = await makeAudio(join(dir, 'ten-seconds.wav'), [tone(10)], { channels: 2 });
});
afterAll(async () => {
  await runner.cleanup();
  await rm(dir, { recursive: true, force: true });
});

async function trimmed(input: string, params: Record<string, unknown>) {
  const out = await runner.run(input, params);
  if (out.type !== 'file') throw new Error('expected a file');
  return { out, probed: await probe(out.path) };
}

test('start and duration cut a range, keeping the input format', async () => {
  const { out, probed } = await trimmed(wav, { start: 2, duration: 3 });
  expect(out).toMatchObject({ mimeType: 'audio/wav', extension: 'wav', data: { start: 2, end: 5, duration_seconds: 3, format: 'wav' } });
  expect(probed.format.format_name).toBe('wav');
  expect(probed.stream).toMatchObject({ codec_name: 'pcm_s16le', sample_rate: 44100, channels: 2 });
  expect(probed.format.duration).toBeCloseTo(3, 2);
});

test('start and end cut a range into another format', async () => {
  const { out, probed } = await trimmed(wav, { start: 2, end: 6, format: 'mp3' });
  expect(out).toMatchObject({ mimeType: 'audio/mpeg', extension: 'mp3' });
  expect(probed.stream.codec_name).toBe('mp3');
  expect(Math.abs(probed.format.duration - 4)).toBeLessThan(0.1);
});

test('an end past the audio stops at its end', async () => {
  const { out, probed } = await trimmed(wav, { start: 7, end: 60 });
  expect(out.data).toMatchObject({ end: 10, duration_seconds: 3 });
  expect(probed.format.duration).toBeCloseTo(3, 2);
});

test('fades make the ends quieter than the middle', async () => {
  const { out } = await trimmed(wav, { start: 1, duration: 4, fade_in: 1, fade_out: 1 });
  if (out.type !== 'file') throw new Error('expected a file');
  const middle = await maxVolume(out.path, 1.5, 1);
  expect(middle).toBeCloseTo(await maxVolume(wav, 1.5, 1), 0);
  expect(await maxVolume(out.path, 0, 0.1)).toBeLessThan(middle - 15);
  expect(await maxVolume(out.path, 3.9, 0.1)).toBeLessThan(middle - 15);
  // Without fades the first tenth of a second is as loud as the rest.
  const { out: plain } = await trimmed(wav, { start: 1, duration: 4 });
  if (plain.type !== 'file') throw new Error('expected a file');
  expect(await maxVolume(plain.path, 0, 0.1)).toBeCloseTo(middle, 0);
});

test.each([
  ['m4a', 'mov,mp4,m4a,3gp,3g2,mj2', 'aac', 'audio/mp4'],
  ['ogg', 'ogg', 'opus', 'audio/ogg'],
  ['flac', 'flac', 'flac', 'audio/flac'],
  ['webm', 'matroska,webm', 'opus', 'audio/webm'],
])('a %s input stays %s', async (ext, container, codec, mimeType) => {
  const input = await makeAudio(join(dir, `input.${ext}`), [tone(4)]);
  const { out, probed } = await trimmed(input, { start: 1, duration: 2 });
  expect(out).toMatchObject({ mimeType, extension: ext });
  expect(probed.format.format_name).toBe(container);
  expect(probed.stream.codec_name).toBe(codec);
  expect(Math.abs(probed.format.duration - 2)).toBeLessThan(0.1);
});

test('a start beyond the end, an end before the start and an over-long file are bad input', async () => {
  await expect(runner.run(wav, { start: 12, duration: 1 })).rejects.toMatchObject({
    constructor: ActionError,
    type: 'INVALID_INPUT',
    message: expect.stringContaining('beyond the end'),
  });
  await expect(runner.run(wav, { start: 5, end: 4 })).rejects.toMatchObject({ type: 'INVALID_INPUT', message: expect.stringContaining('after start') });
  await expect(runner.run(wav, { start: 0, duration: 1 }, { maxDurationSeconds: 5 })).rejects.toMatchObject({
    type: 'INVALID_INPUT',
    message: expect.stringMatching(/10 seconds long, over the 5 seconds limit/),
  });
});

test('parameters need a start and exactly one of end and duration', () => {
  expectFormReady(trim);
  expect(runner.problems({ start: 1, end: 2 })).toEqual([]);
  expect(runner.problems({ start: 1 })).not.toEqual([]);
  expect(runner.problems({ end: 2 })).toContain('parameters.start');
  expect(runner.problems({ start: 1, end: 2, duration: 1 })).not.toEqual([]);
  expect(runner.problems({ start: -1, end: 2 })).toContain('parameters.start');
  expect(runner.problems({ start: 1, duration: 0 })).toContain('parameters.duration');
  expect(runner.problems({ start: 1, end: 2, format: 'aiff' })).toContain('parameters.format');
});
