import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createAiRegistry } from '#lib/ai/registry.js';
import { createActionRegistry } from '../../registry.js';
import { ActionError, type ActionContext } from '../../types.js';
import resize, { outputSize, type ResizeParams } from './resize.js';
import { testFfmpeg } from '../../../../tests/support/ffmpeg.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mf-resize-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const registry = createActionRegistry([resize as never]);
const silent = { info() {}, warn() {}, error() {}, debug() {}, child() { return this; } } as never;

async function run(input: Buffer, params: Record<string, unknown>, maxResolution = 8192) {
  const inputPath = join(dir, 'input');
  await writeFile(inputPath, input);
  const p = { ...params };
  expect(registry.validateParameters(resize as never, p)).toEqual([]);
  const ctx: ActionContext<ResizeParams> = {
    inputPath,
    inputMimeType: 'image/jpeg',
    workDir: dir,
    params: p as unknown as ResizeParams,
    limits: { image: { maxResolution }, audio: { maxDurationSeconds: 3600 } },
    progress: () => undefined,
    signal: new AbortController().signal,
    logger: silent,
    ai: createAiRegistry([]),
    ffmpeg: testFfmpeg,
  };
  const out = await resize.run(ctx);
  if (out.type !== 'file') throw new Error('expected a file');
  return { out, meta: await sharp(out.path).metadata() };
}

const jpeg = (w: number, h: number) => sharp({ create: { width: w, height: h, channels: 3, background: '#804020' } }).jpeg().toBuffer();

test('width alone keeps the aspect ratio and the input format', async () => {
  const { out, meta } = await run(await jpeg(400, 200), { width: 100 });
  expect([meta.width, meta.height, meta.format]).toEqual([100, 50, 'jpeg']);
  expect(out).toMatchObject({ mimeType: 'image/jpeg', extension: 'jpg' });
});

test('contain fits inside both dimensions and converts the format', async () => {
  const { meta } = await run(await jpeg(400, 200), { width: 100, height: 100, fit: 'contain', format: 'png' });
  expect([meta.width, meta.height, meta.format, meta.hasAlpha]).toEqual([100, 100, 'png', true]);
});

test('without_enlargement never makes an image larger', async () => {
  const { meta } = await run(await jpeg(50, 40), { width: 500, without_enlargement: true });
  expect([meta.width, meta.height]).toEqual([50, 40]);
});

test('EXIF orientation is honoured', async () => {
  // Stored 200x100 but tagged "rotate 90°": a viewer sees 100x200, so width 50 gives height 100.
  const rotated = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#fff' } }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
  const { meta } = await run(rotated, { width: 50 });
  expect([meta.width, meta.height]).toEqual([50, 100]);
});

test('a corrupt file and an oversized one are bad input', async () => {
  const good = await jpeg(64, 64);
  await expect(run(Buffer.concat([good.subarray(0, 100), Buffer.alloc(2000)]), { width: 10 })).rejects.toMatchObject({
    constructor: ActionError,
    type: 'INVALID_INPUT',
  });
  await expect(run(await jpeg(300, 300), { width: 10 }, 256)).rejects.toThrow(/over the 256px limit/);
});

test('parameters must name a dimension and stay in range', () => {
  const problems = (p: Record<string, unknown>) => registry.validateParameters(resize as never, p).map((e) => e.field);
  expect(problems({})).not.toEqual([]);
  expect(problems({ width: 0 })).toContain('parameters.width');
  expect(problems({ width: 10, fit: 'squash' })).toContain('parameters.fit');
  expect(problems({ width: 10, colour: 'red' })).toContain('parameters.colour');
});

test('an output over max_resolution is refused before anything is rendered, however it is asked for', async () => {
  // A thin input: width 2000 alone would make it 2000x100000.
  const thin = await sharp({ create: { width: 20, height: 1000, channels: 3, background: '#000' } }).png().toBuffer();
  await expect(run(thin, { width: 2000 }, 4096)).rejects.toMatchObject({ type: 'INVALID_INPUT', message: expect.stringMatching(/2000x100000, over the 4096px limit/) });
  await expect(run(thin, { width: 100, height: 100, fit: 'outside' }, 4096)).rejects.toMatchObject({ type: 'INVALID_INPUT' });
  // Within the limit it is made.
  const { meta } = await run(thin, { height: 4000 }, 4096);
  expect([meta.width, meta.height]).toEqual([80, 4000]);
});

test('outputSize is the size sharp makes', async () => {
  const input = await jpeg(300, 200);
  for (const p of [
    { width: 90 },
    { height: 50 },
    { width: 100, height: 100, fit: 'inside' as const },
    { width: 100, height: 100, fit: 'outside' as const },
    { width: 100, height: 40, fit: 'cover' as const },
    { width: 1000, without_enlargement: true },
  ]) {
    const { meta } = await run(input, p);
    expect(outputSize(300, 200, { fit: 'cover', without_enlargement: false, ...p })).toEqual({ width: meta.width, height: meta.height });
  }
});

test('checkLimits refuses at submission what max_resolution cannot allow', () => {
  const limits = { image: { maxResolution: 4096 }, audio: { maxDurationSeconds: 3600 } };
  const check = (p: Partial<ResizeParams>, input?: { width: number; height: number }) => resize.checkLimits!({ fit: 'cover', without_enlargement: false, ...p } as ResizeParams, limits, input);
  expect(check({ width: 5000 })).toEqual({ width: expect.stringMatching(/at most 4096/) });
  expect(check({ width: 4096 })).toEqual({});
  expect(check({ width: 2000 }, { width: 20, height: 1000 })).toEqual({ width: expect.stringMatching(/2000x100000/) });
  expect(check({ width: 2000 }, { width: 1000, height: 1000 })).toEqual({});
});
