import sharp from 'sharp';
import { createAiRegistry } from '#lib/ai/registry.js';
import { readFile } from 'node:fs/promises';
import { actionRunner, expectFormReady } from '../../../../tests/support/action-run.js';
import { AI_PROVIDER_UNAVAILABLE, type AiProvider } from '#lib/ai/ports.js';
import { ActionError } from '../../types.js';
import analyze from './analyze.js';

const runner = actionRunner(analyze);
afterEach(() => runner.cleanup());

const noDescription = { include_description: false };

/** 3/4 red, 1/4 blue (a 100x200 blue band on a 400x200 red image). */
const redAndBlue = () =>
  sharp({ create: { width: 400, height: 200, channels: 3, background: '#ff0000' } })
    .composite([{ input: { create: { width: 100, height: 200, channels: 3, background: '#0000ff' } }, left: 300, top: 0 }])
    .removeAlpha()
    .png()
    .toBuffer();
const checkerboard = async () => {
  const cells = [];
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) if ((x + y) % 2) cells.push(`<rect x="${x * 40}" y="${y * 40}" width="40" height="40"/>`);
  return sharp(Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="320" height="320"><rect width="320" height="320" fill="#fff"/>${cells.join('')}</svg>`))
    .png()
    .toBuffer();
};

test('dominant colours come back with their share, largest first', async () => {
  const data = await runner.runJson(await redAndBlue(), noDescription);
  expect(data.dominant_colors).toHaveLength(2);
  expect(data.dominant_colors[0]).toMatchObject({ hex: '#ff0000', rgb: [255, 0, 0] });
  expect(data.dominant_colors[0].fraction).toBeCloseTo(0.75, 1);
  expect(data.dominant_colors[1]).toMatchObject({ hex: '#0000ff' });
  expect(data.dominant_colors[1].fraction).toBeCloseTo(0.25, 1);
  const one = await runner.runJson(await redAndBlue(), { ...noDescription, color_count: 1 });
  expect(one.dominant_colors).toHaveLength(1);
  expect(one.dominant_colors[0].fraction).toBe(1);
});

test('per-channel statistics, entropy and opacity', async () => {
  const data = await runner.runJson(await redAndBlue(), noDescription);
  expect(data).toMatchObject({ width: 400, height: 200, is_opaque: true });
  expect(data.channels.map((c: { name: string }) => c.name)).toEqual(['red', 'green', 'blue']);
  expect(data.channels[0]).toMatchObject({ min: 0, max: 255 });
  expect(data.channels[0].mean).toBeCloseTo(255 * 0.75, 0);
  expect(data.channels[1]).toMatchObject({ min: 0, max: 0, mean: 0, stdev: 0 });
  expect(data.entropy).toBeGreaterThan(0.5);

  const flat = await runner.runJson(await sharp({ create: { width: 50, height: 50, channels: 3, background: '#123456' } }).png().toBuffer(), noDescription);
  expect(flat.entropy).toBe(0);
  expect(flat.dominant_colors).toEqual([{ hex: '#123456', rgb: [0x12, 0x34, 0x56], fraction: 1 }]);
  expect(flat.sharpness).toEqual({ laplacian_variance: 0, is_blurry: true, threshold: 100 });
});

test('transparency: not opaque, and transparent pixels are no colour', async () => {
  const half = await sharp({ create: { width: 100, height: 100, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
    .composite([{ input: { create: { width: 50, height: 100, channels: 4, background: { r: 0, g: 200, b: 0, alpha: 1 } } }, left: 0, top: 0 }])
    .png()
    .toBuffer();
  const data = await runner.runJson(half, noDescription);
  expect(data.is_opaque).toBe(false);
  expect(data.channels.map((c: { name: string }) => c.name)).toEqual(['red', 'green', 'blue', 'alpha']);
  expect(data.dominant_colors).toEqual([{ hex: '#00c800', rgb: [0, 200, 0], fraction: 1 }]);
});

test('a blurred copy is measurably less sharp than the original', async () => {
  const sharpImage = await checkerboard();
  const blurred = await sharp(sharpImage).blur(6).png().toBuffer();
  const a = await runner.runJson(sharpImage, noDescription);
  const b = await runner.runJson(blurred, noDescription);
  expect(a.sharpness.laplacian_variance).toBeGreaterThan(10 * b.sharpness.laplacian_variance);
  expect(a.sharpness.is_blurry).toBe(false);
  expect(b.sharpness.is_blurry).toBe(true);
  const strict = await runner.runJson(sharpImage, { ...noDescription, blur_threshold: a.sharpness.laplacian_variance + 1 });
  expect(strict.sharpness.is_blurry).toBe(true);
});

describe('AI description', () => {
  type Call = { path: string; mimeType: string; bytes: Buffer };
  const fakeProvider = (calls: Call[], fail?: Error): AiProvider => ({
    name: 'anthropic',
    async describeImage(image) {
      calls.push({ path: image.path, mimeType: image.mimeType, bytes: await readFile(image.path) });
      if (fail) throw fail;
      return {
        caption: 'A red field with a blue stripe',
        tags: ['red', 'blue'],
        objects: [{ label: 'stripe', confidence: 0.9 }],
        safety: { adult: false },
        usage: { provider: 'anthropic', model: 'claude-test', inputTokens: 1200, outputTokens: 40 },
      };
    },
  });

  test('without a configured provider the result simply has no description', async () => {
    const data = await runner.runJson(await redAndBlue(), {});
    expect(data).not.toHaveProperty('description');
    expect(data.dominant_colors.length).toBeGreaterThan(0);
  });

  test('with a provider: it sees a JPEG preview of the image and its answer is included', async () => {
    const calls: Call[] = [];
    const ai = createAiRegistry([fakeProvider(calls)], { img_analyze: 'anthropic' });
    const out = await runner.run(await redAndBlue(), {}, { ai });
    // Usage goes to the job's bookkeeping as well as into the result.
    expect(out).toMatchObject({ usage: { provider: 'anthropic', model: 'claude-test', inputTokens: 1200, outputTokens: 40 } });
    const data = await runner.runJson(await redAndBlue(), {}, { ai });
    expect(data.description).toEqual({
      caption: 'A red field with a blue stripe',
      tags: ['red', 'blue'],
      objects: [{ label: 'stripe', confidence: 0.9 }],
      safety: { adult: false },
      provider: 'anthropic',
      usage: { provider: 'anthropic', model: 'claude-test', input_tokens: 1200, output_tokens: 40 },
    });
    expect(calls).toHaveLength(2);
    const seen = await sharp(calls[0]!.bytes).metadata();
    expect([calls[0]!.mimeType, seen.format, seen.width, seen.height]).toEqual(['image/png', 'png', 400, 200]);

    const skipped = await runner.runJson(await redAndBlue(), { include_description: false }, { ai });
    expect(skipped).not.toHaveProperty('description');
    expect(calls).toHaveLength(2);
  });

  test('a provider that fails is an error, not a silently missing description', async () => {
    const failure = new ActionError(AI_PROVIDER_UNAVAILABLE, 'upstream said 503');
    const ai = createAiRegistry([fakeProvider([], failure)], { img_analyze: 'anthropic' });
    await expect(runner.run(await redAndBlue(), {}, { ai })).rejects.toBe(failure);
  });
});

test('corrupt and truncated files are bad input', async () => {
  const png = await redAndBlue();
  await expect(runner.run(png.subarray(0, png.length - 100), noDescription)).rejects.toMatchObject({ type: 'INVALID_INPUT' });
  await expect(runner.run(Buffer.from('GIF89a but not really'), noDescription)).rejects.toMatchObject({ type: 'INVALID_INPUT' });
});

test('parameters have defaults and ranges', () => {
  expectFormReady(analyze);
  const p: Record<string, unknown> = {};
  expect(runner.problems(p)).toEqual([]);
  expect(p).toEqual({ include_description: true, color_count: 5, blur_threshold: 100 });
  expect(runner.problems({ color_count: 0 })).toContain('parameters.color_count');
  expect(runner.problems({ color_count: 13 })).toContain('parameters.color_count');
  expect(runner.problems({ blur_threshold: -1 })).toContain('parameters.blur_threshold');
  expect(runner.problems({ include_description: 'yes' })).toContain('parameters.include_description');
});
