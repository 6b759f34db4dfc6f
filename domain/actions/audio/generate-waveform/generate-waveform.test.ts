import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { actionRunner } from '../../../../tests/support/action-run.js';
import { makeAudio, noise, silence, tone } from '../../../../tests/support/audio.js';
import { expectFormReady } from '../../../../tests/support/action-run.js';
import waveform from './generate-waveform.js';

const runner = actionRunner(waveform);
let dir: string;
let gapped: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mf-waveform-'));
  gapped = await makeAudio(join(dir, 'gapped.wav'), [tone(2), silence(2), tone(2)]);
});
afterAll(async () => {
  await runner.cleanup();
  await rm(dir, { recursive: true, force: true });
});

async function draw(input: string, params: Record<string, unknown> = {}) {
  const out = await runner.run(input, params);
  if (out.type !== 'file') throw new Error('expected a file');
  const { data: pixels, info } = await sharp(out.path).raw().toBuffer({ resolveWithObject: true });
  const colored = (x: number, rgb: number[]) => {
    let rows = 0;
    for (let y = 0; y < info.height; y++) {
      const i = (y * info.width + x) * info.channels;
      if (rgb.every((v, c) => pixels[i + c] === v)) rows++;
    }
    return rows;
  };
  return { out, meta: await sharp(out.path).metadata(), colored, peaks: out.data!.peaks as [number, number][] };
}

test('a 1200x200 PNG and 200 peaks that follow tone, silence, tone', async () => {
  const { out, meta, colored, peaks } = await draw(gapped);
  expect(out).toMatchObject({ mimeType: 'image/png', extension: 'png', data: { width: 1200, height: 200, points: 200, duration_seconds: 6 } });
  expect([meta.format, meta.width, meta.height]).toEqual(['png', 1200, 200]);

  expect(peaks).toHaveLength(200);
  // lavfi's sine has amplitude 1/8.
  for (const [min, max] of [...peaks.slice(5, 60), ...peaks.slice(140, 195)]) {
    expect(max).toBeCloseTo(0.125, 1);
    expect(min).toBeCloseTo(-0.125, 1);
  }
  for (const [min, max] of peaks.slice(75, 125)) expect([min, max]).toEqual([0, 0]);

  // Default colours: #1e90ff on white. A tone column spans ~1/8 of the height; silence is one pixel.
  const blue = [0x1e, 0x90, 0xff];
  expect(Math.abs(colored(150, blue) - 25)).toBeLessThanOrEqual(3);
  expect(colored(600, blue)).toBe(1);
  expect(colored(600, [255, 255, 255])).toBe(199);
});

test('size, colours, transparency and point count are parameters', async () => {
  const loud = await makeAudio(join(dir, 'noise.ogg'), [noise(3, 0.9)]);
  const { meta, colored, peaks } = await draw(loud, { width: 300, height: 80, points: 50, color: '#ff0000', background_color: '#00000000' });
  expect([meta.width, meta.height, meta.hasAlpha]).toEqual([300, 80, true]);
  expect(peaks).toHaveLength(50);
  expect(Math.max(...peaks.map(([, max]) => max))).toBeGreaterThan(0.5);
  // The bar drawn in a column spans the peak under it: 300 px over 50 points puts point 25 at x=150.
  const [min, max] = peaks[25]!;
  expect(Math.abs(colored(150, [255, 0, 0, 255]) - ((max - min) / 2) * 79)).toBeLessThanOrEqual(2);
  expect(colored(150, [0, 0, 0, 0]) + colored(150, [255, 0, 0, 255])).toBe(80);
});

test('the decoded PCM does not stay in the work directory', async () => {
  await draw(gapped, { points: 10 });
  expect(await readdir(runner.lastWorkDir())).toEqual(['waveform.png']);
});

test('parameters', () => {
  expectFormReady(waveform);
  expect(runner.problems({ width: 10 })).toContain('parameters.width');
  expect(runner.problems({ height: 5000 })).toContain('parameters.height');
  expect(runner.problems({ color: 'red' })).toContain('parameters.color');
  expect(runner.problems({ background_color: '#12345' })).toContain('parameters.background_color');
  expect(runner.problems({ points: 1 })).toContain('parameters.points');
});
