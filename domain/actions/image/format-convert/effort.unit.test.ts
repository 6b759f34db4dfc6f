// Large images are encoded with less effort, so a 12 MP or 48 MP photo to AVIF finishes well inside
// the attempt's timeout instead of being retried into a TIMEOUT. (Speed itself is measured in bench/.)
import sharp from 'sharp';
import { actionRunner } from '../../../../tests/support/action-run.js';
import convert from './format-convert.js';
import { effortFor, pngCompression } from '../../../media/sharp-io.js';

const runner = actionRunner(convert);
afterEach(() => runner.cleanup());

/** Photo-like content (smooth noise), which encoders work hardest on, as a camera JPEG. */
const photo = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 30 } } })
    .blur(2)
    .jpeg({ quality: 90 })
    .toBuffer();

test('effort falls as pixels grow, and small images keep the encoders\' defaults', () => {
  expect(effortFor('avif', 640 * 480)).toBe(4);
  expect(effortFor('avif', 12e6)).toBe(2);
  expect(effortFor('avif', 48e6)).toBe(0);
  expect(effortFor('webp', 1e6)).toBe(4);
  expect(effortFor('webp', 48e6)).toBe(2);
  expect(effortFor('gif', 1e6)).toBe(7);
  expect(pngCompression(1e6)).toBe(6);
  expect(pngCompression(48e6)).toBe(3);
  expect(effortFor('jpeg', 48e6)).toBeUndefined();
  for (const format of ['avif', 'webp', 'gif'] as const) {
    const sizes = [0.3e6, 2e6, 5e6, 12e6, 20e6, 48e6, 64e6].map((p) => effortFor(format, p)!);
    expect([...sizes].sort((a, b) => b - a)).toEqual(sizes);
  }
});

test.each([
  ['12 MP', 4000, 3000, 2],
  ['48 MP', 8000, 6000, 0],
])('a %s photo converts to AVIF at the effort for its size', async (_name, width, height, effort) => {
  const out = await runner.run(await photo(width, height), { format: 'avif' });
  if (out.type !== 'file') throw new Error('expected a file');
  expect(out.data).toMatchObject({ format: 'avif', width, height, effort });
  const meta = await sharp(out.path).metadata();
  expect(meta).toMatchObject({ width, height, compression: 'av1' });
});
