import { readFile } from 'node:fs/promises';
import exifReader from 'exif-reader';
import sharp from 'sharp';
import { actionRunner, expectFormReady } from '../../../../tests/support/action-run.js';
import convert from './format-convert.js';
import { MAX_ANIMATION_FRAMES } from '../../../media/sharp-io.js';

const runner = actionRunner(convert);
afterEach(() => runner.cleanup());

const photo = () =>
  sharp({ create: { width: 120, height: 80, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 120, sigma: 50 } } })
    .png()
    .toBuffer();
const withGps = async () =>
  sharp(await photo())
    .jpeg()
    .withExif({ IFD0: { Make: 'Acme' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 30/1', GPSLongitudeRef: 'E', GPSLongitude: '2/1 17/1 40/1' } })
    .withIccProfile('p3')
    .toBuffer();
const animation = async (frames: number, size = 24) => {
  const colours = ['#ff0000', '#00ff00', '#0000ff'];
  const images = await Promise.all(
    Array.from({ length: frames }, (_, i) => sharp({ create: { width: size, height: size, channels: 3, background: colours[i % 3]! } }).png().toBuffer()),
  );
  return sharp(images, { join: { animated: true } }).gif().toBuffer();
};

async function convertFile(input: Buffer, params: Record<string, unknown>) {
  const out = await runner.run(input, params);
  if (out.type !== 'file') throw new Error('expected a file');
  expect(runner.outputProblems(out.data)).toEqual([]);
  const bytes = await readFile(out.path);
  expect(out.data?.size_bytes).toBe(bytes.length);
  return { out, bytes, meta: await sharp(bytes).metadata() };
}

test('converts to each format with the right type and extension', async () => {
  const input = await photo();
  const expected = { jpeg: 'jpg', png: 'png', webp: 'webp', avif: 'avif', gif: 'gif', tiff: 'tiff' } as const;
  for (const [format, extension] of Object.entries(expected)) {
    const { out, meta } = await convertFile(input, { format });
    expect([meta.format, meta.width, meta.height]).toEqual([format === 'avif' ? 'heif' : format, 120, 80]);
    expect(out).toMatchObject({ extension, data: { format, width: 120, height: 80, frames: 1, metadata_kept: false } });
    if (format === 'avif') expect(meta.compression).toBe('av1');
  }
});

test('lossless WebP keeps every pixel; quality changes the size of lossy output', async () => {
  const input = await photo();
  const { bytes } = await convertFile(input, { format: 'webp', lossless: true });
  const original = await sharp(input).raw().toBuffer();
  expect((await sharp(bytes).raw().toBuffer()).equals(original)).toBe(true);
  const low = await convertFile(input, { format: 'jpeg', quality: 10 });
  const high = await convertFile(input, { format: 'jpeg', quality: 95 });
  expect(low.bytes.length).toBeLessThan(high.bytes.length);
});

test('progressive JPEG and interlaced PNG only when asked', async () => {
  const input = await photo();
  expect((await convertFile(input, { format: 'jpeg' })).meta.isProgressive).toBe(false);
  expect((await convertFile(input, { format: 'jpeg', progressive: true })).meta.isProgressive).toBe(true);
  expect((await convertFile(input, { format: 'png', progressive: true })).meta.isProgressive).toBe(true);
});

test('metadata is stripped by default and kept on request', async () => {
  const input = await withGps();
  const stripped = await convertFile(input, { format: 'webp' });
  expect([stripped.meta.exif, stripped.meta.icc]).toEqual([undefined, undefined]);
  const kept = await convertFile(input, { format: 'jpeg', keep_metadata: true });
  expect(kept.out.data?.metadata_kept).toBe(true);
  const exif = exifReader(kept.meta.exif!);
  expect(exif.Image?.Make).toBe('Acme');
  expect(exif.GPSInfo?.GPSLatitude).toEqual([48, 51, 30]);
  expect(kept.meta.icc?.length).toBeGreaterThan(100);
});

test('kept metadata does not rotate an image twice', async () => {
  // Stored 120x80 tagged "rotate 90°": the output is upright 80x120 and says so.
  const rotated = await sharp(await photo()).jpeg().withMetadata({ orientation: 6 }).toBuffer();
  const { meta, out } = await convertFile(rotated, { format: 'jpeg', keep_metadata: true });
  expect([meta.width, meta.height, meta.orientation ?? 1]).toEqual([80, 120, 1]);
  expect(out.data).toMatchObject({ width: 80, height: 120 });
});

test('animations stay animated in GIF and WebP, and become one frame elsewhere', async () => {
  const gif = await animation(3);
  const webp = await convertFile(gif, { format: 'webp' });
  expect([webp.meta.format, webp.meta.pages, webp.meta.height]).toEqual(['webp', 3, 24]);
  expect(webp.out.data).toMatchObject({ frames: 3, width: 24, height: 24 });
  const png = await convertFile(gif, { format: 'png' });
  expect([png.meta.pages ?? 1, png.meta.height]).toEqual([1, 24]);
  expect(png.out.data?.frames).toBe(1);
});

test('too many frames, corrupt and truncated files are bad input', async () => {
  await expect(runner.run(await animation(MAX_ANIMATION_FRAMES + 1, 2), { format: 'webp' })).rejects.toMatchObject({
    type: 'INVALID_INPUT',
    message: expect.stringContaining(`${MAX_ANIMATION_FRAMES + 1} frames`),
  });
  const png = await photo();
  await expect(runner.run(png.subarray(0, png.length - 200), { format: 'jpeg' })).rejects.toMatchObject({ type: 'INVALID_INPUT' });
  await expect(runner.run(Buffer.alloc(500, 7), { format: 'jpeg' })).rejects.toMatchObject({ type: 'INVALID_INPUT' });
});

test('parameters: options a format does not have are refused', () => {
  expectFormReady(convert);
  expect(runner.problems({})).toContain('parameters.format');
  expect(runner.problems({ format: 'avif', lossless: true })).toEqual([]);
  expect(runner.problems({ format: 'jpeg', lossless: true })).toContain('parameters.format');
  expect(runner.problems({ format: 'webp', progressive: true })).toContain('parameters.format');
  expect(runner.problems({ format: 'jpeg', quality: 0 })).toContain('parameters.quality');
  expect(runner.problems({ format: 'heic' })).toContain('parameters.format');
  const withDefaults: Record<string, unknown> = { format: 'png' };
  runner.problems(withDefaults);
  expect(withDefaults).toEqual({ format: 'png', quality: 80, lossless: false, progressive: false, keep_metadata: false });
});
