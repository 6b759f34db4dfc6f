import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { actionRunner } from '../../../../tests/support/action-run.js';
import { childProcesses, makeAudio, noise, probe, tone } from '../../../../tests/support/audio.js';
import { expectFormReady } from '../../../../tests/support/action-run.js';
import { ActionError } from '../../types.js';
import convert from './format-convert.js';

const runner = actionRunner(convert);
let dir: string;
let wav: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mf-convert-'));
  wav = await makeAudio(join(dir, 'three-seconds.wav'), [tone(3)], { channels: 2 });
});
afterAll(async () => {
  await runner.cleanup();
  await rm(dir, { recursive: true, force: true });
});

async function converted(input: string, params: Record<string, unknown>) {
  const out = await runner.run(input, params);
  if (out.type !== 'file') throw new Error('expected a file');
  return { out, probed: await probe(out.path) };
}

test.each([
  ['mp3', 'mp3', 'mp3', 'audio/mpeg', 44100],
  ['wav', 'wav', 'pcm_s16le', 'audio/wav', 44100],
  ['flac', 'flac', 'flac', 'audio/flac', 44100],
  ['ogg', 'ogg', 'opus', 'audio/ogg', 48000],
  ['opus', 'ogg', 'opus', 'audio/ogg', 48000],
  ['m4a', 'mov,mp4,m4a,3gp,3g2,mj2', 'aac', 'audio/mp4', 44100],
  ['webm', 'matroska,webm', 'opus', 'audio/webm', 48000],
])('to %s', async (format, container, codec, mimeType, sampleRate) => {
  const { out, probed } = await converted(wav, { format });
  expect(out).toMatchObject({ mimeType, extension: format, data: { format, input_codec: 'pcm_s16le' } });
  expect(probed.format.format_name).toBe(container);
  expect(probed.stream).toMatchObject({ codec_name: codec, sample_rate: sampleRate, channels: 2 });
  expect(Math.abs(probed.format.duration - 3)).toBeLessThan(0.1);
});

test('bit rate, sample rate and channels are applied', async () => {
  const { probed } = await converted(wav, { format: 'mp3', bitrate: '128k', sample_rate: 22050, channels: 1 });
  expect(probed.stream).toMatchObject({ codec_name: 'mp3', sample_rate: 22050, channels: 1 });
  expect(Math.abs(probed.stream.bit_rate! - 128_000)).toBeLessThan(128_000 * 0.05);
  const { probed: opus } = await converted(wav, { format: 'webm', sample_rate: 16000 });
  expect(opus.stream).toMatchObject({ codec_name: 'opus', sample_rate: 48000 }); // Opus always decodes at 48 kHz
});

test('an input whose container does not state its duration is measured', async () => {
  // A WebM written to a pipe has no duration in its header, like a browser recording.
  const piped = join(dir, 'piped.webm');
  await makeAudio(piped, [tone(4)], { extra: ['-f', 'webm', '-live', '1'] });
  const { out, probed } = await converted(piped, { format: 'flac' });
  expect(out.data).toMatchObject({ duration_seconds: expect.closeTo(4, 1) });
  expect(Math.abs(probed.format.duration - 4)).toBeLessThan(0.1);
  await expect(runner.run(piped, { format: 'flac' }, { maxDurationSeconds: 2 })).rejects.toMatchObject({
    constructor: ActionError,
    type: 'INVALID_INPUT',
    message: expect.stringContaining('over the 2 seconds limit'),
  });
});

test('a garbled file is bad input', async () => {
  const bytes = await readFile(await makeAudio(join(dir, 'good.mp3'), [tone(3)]));
  for (let i = 600; i < bytes.length; i++) bytes[i] = (i * 31) & 0xff;
  const garbled = join(dir, 'garbled.mp3');
  await writeFile(garbled, bytes);
  await expect(runner.run(garbled, { format: 'wav' })).rejects.toMatchObject({ constructor: ActionError, type: 'INVALID_INPUT' });
});

test('cancelling a long conversion kills ffmpeg promptly and leaves no output', async () => {
  const long = await makeAudio(join(dir, 'ten-minutes.wav'), [noise(600)]);
  const controller = new AbortController();
  let abortedAt = 0;
  let running: Promise<unknown> | undefined;
  const progressed = new Promise<void>((resolve) => {
    running = runner.run(long, { format: 'mp3', bitrate: '320k' }, {
      signal: controller.signal,
      onProgress: (f) => {
        if (f > 0 && !abortedAt) resolve();
      },
    });
  });
  // Wait until ffmpeg is really encoding, then cancel.
  await Promise.race([progressed, running!.then(() => Promise.reject(new Error('finished before it could be cancelled')))]);
  const children = await childProcesses('ffmpeg');
  expect(children.length).toBe(1);
  abortedAt = Date.now();
  controller.abort(new Error('job cancelled'));
  await expect(running).rejects.toThrow('job cancelled');
  expect(Date.now() - abortedAt).toBeLessThan(3000);
  expect(await childProcesses('ffmpeg')).toEqual([]);
  expect(await readdir(runner.lastWorkDir())).toEqual([]);
});

test('parameters', () => {
  expectFormReady(convert);
  expect(runner.problems({})).toContain('parameters.format');
  expect(runner.problems({ format: 'aiff' })).toContain('parameters.format');
  expect(runner.problems({ format: 'mp3', bitrate: '100k' })).toContain('parameters.bitrate');
  expect(runner.problems({ format: 'flac', sample_rate: 96000 })).toEqual([]);
  expect(runner.problems({ format: 'ogg', sample_rate: 44100 })).toContain('parameters.sample_rate');
  expect(runner.problems({ format: 'mp3', sample_rate: 100 })).toContain('parameters.sample_rate');
  expect(runner.problems({ format: 'mp3', channels: 6 })).toContain('parameters.channels');
});
