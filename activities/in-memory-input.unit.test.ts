// Small inputs reach sharp as a buffer, never as a temporary file: the download helper's two ways
// (memory, disk, and the spill of an input larger than announced), and the image actions that read
// the buffer giving what they give from the file.
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import { createAiRegistry } from '#lib/ai/registry.js';
import { createActionRegistry } from '#domain/actions/registry.js';
import type { ActionDefinition } from '#domain/actions/types.js';
import crop from '#domain/actions/image/crop/crop.js';
import formatConvert from '#domain/actions/image/format-convert/format-convert.js';
import metadata from '#domain/actions/image/metadata/metadata.js';
import resize from '#domain/actions/image/resize/resize.js';
import { testFfmpeg } from '../tests/support/ffmpeg.js';
import { download } from './download.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mf-memory-input-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const pieces = (...sizes: number[]) => Readable.from(sizes.map((n, i) => Buffer.alloc(n, i + 1)));
const exists = (p: string) => access(p).then(() => true, () => false);

test('an input within the limit is read to memory and no file is written', async () => {
  const path = join(dir, 'input');
  const buf = await download(pieces(10, 20, 30), path, 100, new AbortController().signal);
  expect(buf?.length).toBe(60);
  expect(buf!.subarray(0, 10).every((b) => b === 1) && buf!.subarray(30).every((b) => b === 3)).toBe(true);
  expect(await exists(path)).toBe(false);
});

test('without a memory budget the input streams to the file', async () => {
  const path = join(dir, 'input');
  expect(await download(pieces(10, 20), path, 0, new AbortController().signal)).toBeUndefined();
  expect((await readFile(path)).length).toBe(30);
});

test('an input larger than announced spills to the file, whole and in order', async () => {
  const path = join(dir, 'input');
  expect(await download(pieces(40, 40, 40, 40), path, 50, new AbortController().signal)).toBeUndefined();
  const bytes = await readFile(path);
  expect(bytes.length).toBe(160);
  expect([bytes[0], bytes[40], bytes[80], bytes[159]]).toEqual([1, 2, 3, 4]);
});

test('a cancelled download stops', async () => {
  const ac = new AbortController();
  ac.abort(new Error('cancelled'));
  await expect(download(pieces(10), join(dir, 'input'), 100, ac.signal)).rejects.toThrow();
});

const silent = { info() {}, warn() {}, error() {}, debug() {}, child() { return this; } } as never;

async function runBoth(action: ActionDefinition<any>, input: Buffer, params: Record<string, unknown>) {
  const registry = createActionRegistry([action as ActionDefinition]);
  const p = { ...params };
  expect(registry.validateParameters(action as ActionDefinition, p)).toEqual([]);
  const ctx = (workDir: string, inputPath: string, inputBuffer?: Buffer) => ({
    inputPath,
    ...(inputBuffer ? { inputBuffer } : {}),
    inputMimeType: 'image/jpeg',
    workDir,
    params: structuredClone(p),
    limits: { image: { maxResolution: 8192 }, audio: { maxDurationSeconds: 3600 } },
    progress: () => undefined,
    signal: new AbortController().signal,
    logger: silent,
    ai: createAiRegistry([]),
    ffmpeg: testFfmpeg,
  });
  const fromFile = join(dir, 'file');
  const fromMemory = join(dir, 'memory');
  await Promise.all([fromFile, fromMemory].map((d) => import('node:fs/promises').then((fs) => fs.mkdir(d))));
  await writeFile(join(fromFile, 'input'), input);
  const a = await action.run(ctx(fromFile, join(fromFile, 'input')));
  // No file at inputPath: the action must read the buffer.
  const b = await action.run(ctx(fromMemory, join(fromMemory, 'input'), input));
  return [a, b] as const;
}

const jpeg = () => sharp({ create: { width: 120, height: 80, channels: 3, background: '#336699' } }).jpeg().withMetadata({ density: 150 }).toBuffer();

test.each([
  ['img_resize', resize, { width: 60, format: 'webp' }],
  ['img_format_convert', formatConvert, { format: 'png' }],
  ['img_crop', crop, { width: 40, height: 40, left: 10, top: 5 }],
])('%s reads the input from memory as from the file', async (_id, action, params) => {
  expect(action.inMemoryInput).toBe(true);
  const [a, b] = await runBoth(action as ActionDefinition<any>, await jpeg(), params);
  if (a.type !== 'file' || b.type !== 'file') throw new Error('expected files');
  expect(b.data).toEqual(a.data);
  expect(b.mimeType).toBe(a.mimeType);
  expect(await sharp(b.path).metadata()).toMatchObject({ width: (await sharp(a.path).metadata()).width });
});

test('img_metadata reports the same from memory, size and density included', async () => {
  expect(metadata.inMemoryInput).toBe(true);
  const [a, b] = await runBoth(metadata as ActionDefinition<any>, await jpeg(), {});
  if (a.type !== 'json' || b.type !== 'json') throw new Error('expected JSON');
  expect(b.data).toEqual(a.data);
  expect(b.data).toMatchObject({ width: 120, height: 80, density: 150 });
});
