import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { actionRunner } from '../../../../tests/support/action-run.js';
import { loudness, makeAudio, maxVolume, noise, probe, silence, tone } from '../../../../tests/support/audio.js';
import { expectFormReady } from '../../../../tests/support/action-run.js';
import { ActionError } from '../../types.js';
import volume from './volume.js';

const runner = actionRunner(volume);
let dir: string;
let wav: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mf-volume-'));
  wav = await makeAudio(join(dir, 'tone.wav'), [tone(6)]);
});
afterAll(async () => {
  await runner.cleanup();
  await rm(dir, { recursive: true, force: true });
});

async function adjusted(input: string, params: Record<string, unknown>) {
  const out = await runner.run(input, params);
  if (out.type !== 'file') throw new Error('expected a file');
  return out;
}

test('gain raises the level by that many dB, keeping the format', async () => {
  const out = await adjusted(wav, { mode: 'gain', gain_db: 6 });
  expect(out).toMatchObject({ mimeType: 'audio/wav', data: { mode: 'gain', gain_db: 6, format: 'wav' } });
  expect((await maxVolume(out.path)) - (await maxVolume(wav))).toBeCloseTo(6, 0);
  expect((await probe(out.path)).stream).toMatchObject({ codec_name: 'pcm_s16le', sample_rate: 44100, channels: 1 });
});

test('a negative gain into another format', async () => {
  const out = await adjusted(wav, { mode: 'gain', gain_db: -10, format: 'mp3' });
  expect(out.mimeType).toBe('audio/mpeg');
  expect((await probe(out.path)).stream.codec_name).toBe('mp3');
  expect(Math.abs((await maxVolume(out.path)) - (await maxVolume(wav)) + 10)).toBeLessThan(0.5);
});

test('normalize reaches the default -16 LUFS within the true-peak limit, at the input sample rate', async () => {
  const before = await loudness(wav);
  const out = await adjusted(wav, {});
  const after = await loudness(out.path);
  expect(Math.abs(after.integrated - -16)).toBeLessThan(1);
  expect(after.truePeak).toBeLessThanOrEqual(-1.5 + 0.3);
  expect(out.data).toMatchObject({ mode: 'normalize', format: 'wav' });
  expect(Math.abs((out.data!.input_lufs as number) - before.integrated)).toBeLessThan(0.5);
  expect(Math.abs((out.data!.output_lufs as number) - -16)).toBeLessThan(1);
  expect((await probe(out.path)).stream.sample_rate).toBe(44100);
});

test('normalize brings loud noise down to a lower target', async () => {
  const loud = await makeAudio(join(dir, 'loud.flac'), [noise(5, 0.8)]);
  const before = await loudness(loud);
  expect(before.integrated).toBeGreaterThan(-20);
  const out = await adjusted(loud, { mode: 'normalize', target_lufs: -23, true_peak: -2 });
  expect(out.mimeType).toBe('audio/flac');
  const after = await loudness(out.path);
  expect(Math.abs(after.integrated - -23)).toBeLessThan(1);
  expect(after.truePeak).toBeLessThanOrEqual(-2 + 0.3);
});

test('silence cannot be normalized', async () => {
  const quiet = await makeAudio(join(dir, 'silence.wav'), [silence(3)]);
  await expect(runner.run(quiet, { mode: 'normalize' })).rejects.toMatchObject({
    constructor: ActionError,
    type: 'INVALID_INPUT',
    message: expect.stringContaining('silent'),
  });
});

test('parameters', () => {
  expectFormReady(volume);
  expect(runner.problems({ mode: 'louder' })).toContain('parameters.mode');
  expect(runner.problems({ mode: 'gain', gain_db: 100 })).toContain('parameters.gain_db');
  expect(runner.problems({ target_lufs: 0 })).toContain('parameters.target_lufs');
  expect(runner.problems({ true_peak: 1 })).toContain('parameters.true_peak');
});
