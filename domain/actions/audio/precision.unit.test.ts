// Results that used to be wrong: WAV precision, and loudness of clips shorter than one R128 block.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { actionRunner } from '../../../tests/support/action-run.js';
import { tone } from '../../../tests/support/audio.js';
import analyze from './analyze/analyze.js';
import formatConvert from './format-convert/format-convert.js';
import volume from './volume/volume.js';

const exec = promisify(execFile);
const convert = actionRunner(formatConvert);
const adjust = actionRunner(volume);
const analyzer = actionRunner(analyze);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mf-precision-'));
});
afterAll(async () => {
  await Promise.all([convert.cleanup(), adjust.cleanup(), analyzer.cleanup()]);
  await rm(dir, { recursive: true, force: true });
});

/** A tone written with the given codec (and container, from the extension). */
async function encoded(name: string, codec: string, source = tone(1), extra: string[] = []): Promise<string> {
  const path = join(dir, name);
  await exec('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', source, '-c:a', codec, ...extra, path]);
  return path;
}

async function stream(path: string): Promise<{ codec_name: string; sample_fmt: string; bits_per_sample: number }> {
  const { stdout } = await exec('ffprobe', ['-v', 'error', '-select_streams', 'a:0', '-show_streams', '-of', 'json', path]);
  return (JSON.parse(stdout) as { streams: { codec_name: string; sample_fmt: string; bits_per_sample: number }[] }).streams[0]!;
}

/** Overall RMS level in dBFS, by astats (not by the code under test). */
async function rms(path: string): Promise<number> {
  const { stderr } = await exec('ffmpeg', ['-hide_banner', '-nostats', '-i', path, '-af', 'astats=measure_perchannel=none:measure_overall=RMS_level', '-f', 'null', '-']);
  return Number(/RMS level dB: (-?[\d.]+)/.exec(stderr)![1]);
}

test.each([
  ['24-bit WAV', 'in24.wav', 'pcm_s24le', 'pcm_s24le'],
  ['32-bit float WAV', 'inf32.wav', 'pcm_f32le', 'pcm_f32le'],
  ['32-bit integer WAV', 'in32.wav', 'pcm_s32le', 'pcm_s32le'],
  ['24-bit FLAC', 'in24.flac', 'flac', 'pcm_s24le'],
  ['16-bit WAV', 'in16.wav', 'pcm_s16le', 'pcm_s16le'],
  ['MP3 (lossy: no bit depth to keep)', 'in.mp3', 'libmp3lame', 'pcm_s16le'],
])('%s (%s, %s) converted to WAV is written as %s', async (_name, file, inputCodec, expected) => {
  const extra = file === 'in24.flac' ? ['-sample_fmt', 's32', '-bits_per_raw_sample', '24'] : [];
  const input = await encoded(file, inputCodec, tone(1), extra);
  const out = await convert.run(input, { format: 'wav' });
  if (out.type !== 'file') throw new Error('expected a file');
  expect(out.data).toMatchObject({ format: 'wav', codec: expected });
  expect((await stream(out.path)).codec_name).toBe(expected);
});

test('24-bit detail below the 16-bit floor survives a conversion to WAV and a gain', async () => {
  // A tone at -110 dBFS: under 16-bit quantisation (about -98 dBFS) it becomes silence or noise.
  const input = await encoded('quiet24.wav', 'pcm_s24le', 'sine=frequency=1000:duration=1,volume=-92dB');
  const level = await rms(input);
  expect(level).toBeLessThan(-105);
  const converted = await convert.run(input, { format: 'wav' });
  if (converted.type !== 'file') throw new Error('expected a file');
  expect(Math.abs((await rms(converted.path)) - level)).toBeLessThan(0.5);
  const louder = await adjust.run(input, { mode: 'gain', gain_db: 0, format: 'wav' });
  if (louder.type !== 'file') throw new Error('expected a file');
  expect((await stream(louder.path)).codec_name).toBe('pcm_s24le');
});

test('a clip shorter than 0.4 s is normalized from its RMS level, not called silent', async () => {
  const clip = await encoded('blip.wav', 'pcm_s16le', 'sine=frequency=440:duration=0.3');
  const out = await adjust.run(clip, { mode: 'normalize', target_lufs: -16 });
  if (out.type !== 'file') throw new Error('expected a file');
  expect(out.data).toMatchObject({ mode: 'normalize', measurement: 'rms', format: 'wav' });
  // The tone starts at -21 dBFS RMS (about -21.8 LUFS): raised by about 5.8 dB.
  const before = await rms(clip);
  const after = await rms(out.path);
  expect(after - before).toBeGreaterThan(5);
  expect(after - before).toBeLessThan(6.5);
  expect(out.data!.output_lufs).toBeCloseTo(-16, 0);
});

test('analysis of a short clip: no integrated loudness, but its true peak and RMS level', async () => {
  const clip = await encoded('blip2.wav', 'pcm_s16le', 'sine=frequency=440:duration=0.3');
  const out = await analyzer.run(clip, {});
  if (out.type !== 'json') throw new Error('expected json');
  const loudness = (out.data as { loudness: Record<string, number | null> }).loudness;
  expect(loudness.integrated_lufs).toBeNull();
  expect(loudness.true_peak_dbtp).toBeCloseTo(-18.1, 0);
  expect(loudness.rms_dbfs).toBeCloseTo(-21.1, 0);
});

test('where one gain would break the true-peak limit, loudnorm limits: loud and within the peak', async () => {
  // Pink noise at -20.7 LUFS with peaks at -7.9 dBTP: reaching -8 LUFS needs 12.7 dB, the peak allows 6.9.
  const noisy = await encoded('pink.wav', 'pcm_s16le', 'anoisesrc=d=4:a=0.5:c=pink:seed=7');
  const out = await adjust.run(noisy, { mode: 'normalize', target_lufs: -8, true_peak: -1 });
  if (out.type !== 'file') throw new Error('expected a file');
  expect(out.data).toMatchObject({ measurement: 'ebu_r128' });
  expect(out.data!.input_lufs).toBeCloseTo(-20.7, 0);
  const { stderr } = await exec('ffmpeg', ['-hide_banner', '-nostats', '-i', out.path, '-af', 'ebur128=peak=true:framelog=verbose', '-f', 'null', '-']);
  const summary = stderr.slice(stderr.lastIndexOf('Summary'));
  expect(Number(/Peak:\s+(-?[\d.]+)/.exec(summary)![1])).toBeLessThanOrEqual(-1 + 0.8); // loudnorm's limiter overshoots a little
  // Louder than the plain capped gain would make it (-20.7 + 6.9), and reported as measured.
  const integrated = Number(/I:\s+(-?[\d.]+) LUFS/.exec(summary)![1]);
  expect(integrated).toBeGreaterThan(-13.8);
  expect(Math.abs((out.data!.output_lufs as number) - integrated)).toBeLessThan(0.7);
});

test('a chained Ogg (two recordings end to end) is analyzed whole, not by its header\'s length', async () => {
  const first = await encoded('first.ogg', 'libvorbis', 'sine=frequency=440:duration=3');
  const second = await encoded('second.ogg', 'libvorbis', 'sine=frequency=880:duration=4');
  const chained = join(dir, 'chained.ogg');
  await writeFile(chained, Buffer.concat([await readFile(first), await readFile(second)]));
  const out = await analyzer.run(chained, {});
  if (out.type !== 'json') throw new Error('expected json');
  expect((out.data as { duration_seconds: number }).duration_seconds).toBeCloseTo(7, 0);
});
