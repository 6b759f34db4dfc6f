import sharp from 'sharp';
import { actionRunner, expectFormReady } from '../../../../tests/support/action-run.js';
import { ActionError } from '../../types.js';
import crop from './crop.js';

const runner = actionRunner(crop);
afterEach(() => runner.cleanup());

/** 400x200: four 200x100 quadrants, red / green on top, blue / white below. */
const quadrants = (format: 'png' | 'jpeg' = 'png') =>
  sharp({ create: { width: 400, height: 200, channels: 3, background: '#ff0000' } })
    .composite([
      { input: { create: { width: 200, height: 100, channels: 3, background: '#00ff00' } }, left: 200, top: 0 },
      { input: { create: { width: 200, height: 100, channels: 3, background: '#0000ff' } }, left: 0, top: 100 },
      { input: { create: { width: 200, height: 100, channels: 3, background: '#ffffff' } }, left: 200, top: 100 },
    ])
    .toFormat(format)
    .toBuffer();

async function cropFile(input: Buffer, params: Record<string, unknown>, maxResolution?: number) {
  const out = await runner.run(input, params, { maxResolution });
  if (out.type !== 'file') throw new Error('expected a file');
  const { data, info } = await sharp(out.path).raw().toBuffer({ resolveWithObject: true });
  const pixel = (x: number, y: number) => [...data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3)];
  return { out, info, pixel, meta: await sharp(out.path).metadata() };
}

test('a region is cut at its corner, in the input format', async () => {
  const { out, info, pixel, meta } = await cropFile(await quadrants(), { left: 150, top: 50, width: 100, height: 100 });
  expect([info.width, info.height, meta.format]).toEqual([100, 100, 'png']);
  // Straddles all four quadrants: each corner of the result comes from a different one.
  expect(pixel(0, 0)).toEqual([255, 0, 0]);
  expect(pixel(99, 0)).toEqual([0, 255, 0]);
  expect(pixel(0, 99)).toEqual([0, 0, 255]);
  expect(pixel(99, 99)).toEqual([255, 255, 255]);
  expect(out).toMatchObject({ mimeType: 'image/png', extension: 'png', data: { width: 100, height: 100, format: 'png', strategy: 'region', left: 150, top: 50 } });
  expect(runner.outputProblems(out.type === 'file' ? out.data : null)).toEqual([]);
});

test('the region is in displayed coordinates when EXIF says the image is rotated', async () => {
  // Stored 400x200, displayed 200x400 (orientation 6 = rotate 90° clockwise): the stored left
  // edge (red on top, blue below) becomes the displayed top row, blue on the left.
  const rotated = await sharp(await quadrants()).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
  const { info, pixel } = await cropFile(rotated, { left: 0, top: 0, width: 200, height: 40, format: 'png' });
  expect([info.width, info.height]).toEqual([200, 40]);
  const [leftR, , leftB] = pixel(10, 10);
  const [rightR, , rightB] = pixel(190, 10);
  expect(leftB).toBeGreaterThan(200);
  expect(leftR).toBeLessThan(60);
  expect(rightR).toBeGreaterThan(200);
  expect(rightB).toBeLessThan(60);
  await expect(cropFile(rotated, { left: 0, top: 0, width: 300, height: 10 })).rejects.toMatchObject({ type: 'INVALID_INPUT' });
});

test('a region reaching outside the image is bad input', async () => {
  const input = await quadrants();
  await expect(cropFile(input, { left: 350, top: 0, width: 100, height: 100 })).rejects.toMatchObject({
    constructor: ActionError,
    type: 'INVALID_INPUT',
    message: expect.stringContaining('reaches outside the 400x200 image'),
  });
  await expect(cropFile(input, { left: 0, top: 150, width: 10, height: 51 })).rejects.toMatchObject({ type: 'INVALID_INPUT' });
  await expect(cropFile(input, { left: 0, top: 0, width: 401, height: 10 })).rejects.toMatchObject({ type: 'INVALID_INPUT' });
});

test('entropy and attention keep the detailed part of the image at the requested size', async () => {
  // Left half flat grey, right half noise: the interesting 200x200 square is the right one.
  const noise = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 80 } } }).png().toBuffer();
  const input = await sharp({ create: { width: 400, height: 200, channels: 3, background: '#808080' } }).composite([{ input: noise, left: 200, top: 0 }]).png().toBuffer();
  for (const strategy of ['entropy', 'attention']) {
    const { info, out } = await cropFile(input, { strategy, width: 150, height: 150, format: 'webp' });
    expect([info.width, info.height]).toEqual([150, 150]);
    expect(out).toMatchObject({ mimeType: 'image/webp', data: { strategy, format: 'webp' } });
    const data = out.type === 'file' ? out.data! : {};
    // Scaled to 300x150 first; the kept square starts in the noisy right half.
    expect(data.left).toBeGreaterThanOrEqual(100);
    expect(data.top).toBe(0);
    expect(runner.outputProblems(data)).toEqual([]);
  }
  await expect(cropFile(input, { strategy: 'entropy', width: 300, height: 300 })).rejects.toMatchObject({
    type: 'INVALID_INPUT',
    message: expect.stringContaining('larger than the 400x200 image'),
  });
});

test('corrupt, truncated and oversized inputs are bad input', async () => {
  const jpeg = await quadrants('jpeg');
  const params = { left: 0, top: 0, width: 10, height: 10 };
  await expect(cropFile(Buffer.from('not an image at all'), params)).rejects.toMatchObject({ type: 'INVALID_INPUT', message: expect.stringContaining('cannot decode image') });
  await expect(cropFile(jpeg.subarray(0, Math.floor(jpeg.length * 0.6)), params)).rejects.toMatchObject({ type: 'INVALID_INPUT' });
  await expect(cropFile(jpeg, params, 256)).rejects.toMatchObject({ type: 'INVALID_INPUT', message: expect.stringContaining('over the 256px limit') });
});

test('parameters: a region needs its corner, smart strategies refuse one', () => {
  expectFormReady(crop);
  expect(runner.problems({ left: 0, top: 0, width: 10, height: 10 })).toEqual([]);
  expect(runner.problems({ strategy: 'attention', width: 10, height: 10 })).toEqual([]);
  expect(runner.problems({ width: 10, height: 10 })).toEqual(expect.arrayContaining(['parameters.left', 'parameters.top']));
  expect(runner.problems({ strategy: 'entropy', left: 5, width: 10, height: 10 })).not.toEqual([]);
  expect(runner.problems({ left: 0, top: 0, width: 0, height: 10 })).toContain('parameters.width');
  expect(runner.problems({ left: -1, top: 0, width: 5, height: 10 })).toContain('parameters.left');
  expect(runner.problems({ strategy: 'faces', width: 5, height: 5 })).toContain('parameters.strategy');
  expect(runner.problems({ left: 0, top: 0, width: 5, height: 5, format: 'bmp' })).toContain('parameters.format');
  const withDefaults: Record<string, unknown> = { left: 0, top: 0, width: 5, height: 5 };
  runner.problems(withDefaults);
  expect(withDefaults).toMatchObject({ strategy: 'region', format: 'original', quality: 80 });
});
