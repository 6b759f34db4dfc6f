import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { ProviderError, type ImageInput } from './ports.js';
import { renderText } from '../../tests/support/text-image.js';
import { createTesseractProvider, parseTsv } from './tesseract.js';

let dir: string;
const signal = new AbortController().signal;
const tesseract = createTesseractProvider({ command: 'tesseract', timeoutMs: 60_000 });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mf-tesseract-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function imageOf(lines: string[]): Promise<ImageInput> {
  const path = join(dir, `${lines.join('_').replace(/\W/g, '')}.png`);
  const { width, height } = await sharp(await renderText(lines)).toFile(path);
  return { path, mimeType: 'image/png', width, height };
}

test('reads rendered words, with boxes inside the image and confidence 0–1', async () => {
  const image = await imageOf(['MEDIAFLOW', 'quick brown fox']);
  const result = await tesseract.ocr!(image, { language: 'eng', signal });
  expect(result.text).toBe('MEDIAFLOW\nquick brown fox');
  expect(result.blocks.map((b) => b.text)).toEqual(['MEDIAFLOW', 'quick', 'brown', 'fox']);
  for (const b of result.blocks) {
    expect(b.confidence).toBeGreaterThan(0.5);
    expect(b.confidence).toBeLessThanOrEqual(1);
    expect(b.bbox.left + b.bbox.width).toBeLessThanOrEqual(image.width);
    expect(b.bbox.top + b.bbox.height).toBeLessThanOrEqual(image.height);
  }
  // The first line is above the second.
  expect(result.blocks[0]!.bbox.top + result.blocks[0]!.bbox.height).toBeLessThanOrEqual(result.blocks[1]!.bbox.top);
});

test('an image without text gives no text', async () => {
  const path = join(dir, 'blank.png');
  await sharp({ create: { width: 200, height: 80, channels: 3, background: '#ffffff' } }).png().toFile(path);
  const result = await tesseract.ocr!({ path, mimeType: 'image/png', width: 200, height: 80 }, { signal });
  expect(result).toMatchObject({ text: '', blocks: [] });
});

test('a language without data, and a missing binary, are not retryable', async () => {
  const image = await imageOf(['HELLO']);
  await expect(tesseract.ocr!(image, { language: 'xyz', signal })).rejects.toMatchObject({
    constructor: ProviderError,
    type: 'AI_PROVIDER_ERROR',
    message: expect.stringContaining('"xyz"'),
  });
  const missing = createTesseractProvider({ command: '/nonexistent/tesseract', timeoutMs: 1000 });
  await expect(missing.ocr!(image, { signal })).rejects.toMatchObject({ type: 'AI_PROVIDER_ERROR', message: expect.stringContaining('not installed') });
});

test('cancellation stops tesseract', async () => {
  const image = await imageOf(['CANCEL ME']);
  const ac = new AbortController();
  ac.abort();
  await expect(tesseract.ocr!(image, { signal: ac.signal })).rejects.not.toBeInstanceOf(ProviderError);
});

test('TSV parsing keeps lines and paragraphs and skips non-words', () => {
  const header = 'level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext';
  const row = (block: number, par: number, line: number, word: number, conf: number, text: string) =>
    `5\t1\t${block}\t${par}\t${line}\t${word}\t${word * 10}\t${line * 20}\t9\t15\t${conf}\t${text}`;
  const tsv = [header, '4\t1\t1\t1\t1\t0\t0\t0\t100\t20\t-1\t', row(1, 1, 1, 1, 96.5, 'a'), row(1, 1, 1, 2, 90, 'b'), row(1, 1, 2, 1, 80, 'c'), row(2, 1, 1, 1, 70, 'd'), row(2, 1, 1, 2, -1, ' ')].join('\n');
  const parsed = parseTsv(tsv);
  expect(parsed.text).toBe('a b\nc\n\nd');
  expect(parsed.blocks[0]).toEqual({ text: 'a', confidence: 0.965, bbox: { left: 10, top: 20, width: 9, height: 15 } });
  expect(parsed.blocks).toHaveLength(4);
});

test('a failure names no path of the worker\'s temporary directory', async () => {
  const missing: ImageInput = { path: join(dir, 'gone', 'ai-input.png'), mimeType: 'image/png', width: 10, height: 10 };
  const failure = await tesseract.ocr!(missing, { language: 'eng', signal }).catch((err: unknown) => err);
  expect(failure).toBeInstanceOf(ProviderError);
  expect((failure as ProviderError).message).toMatch(/^tesseract failed: /);
  expect((failure as ProviderError).message).not.toContain(dir);
  expect((failure as ProviderError).message).not.toContain(tmpdir());
  expect((failure as ProviderError).message).not.toContain('ai-input.png');
});
