import sharp from 'sharp';
import { FAKE_OCR, startFakeAiServer, type FakeAiServer } from '../../../../tests/support/fake-ai-server.js';
import { actionRunner } from '../../../../tests/support/action-run.js';
import { expectFormReady } from '../../../../tests/support/action-run.js';
import { renderText } from '../../../../tests/support/text-image.js';
import ocr from './ocr.js';

let fake: FakeAiServer;
const runner = actionRunner(ocr);
beforeAll(async () => {
  fake = await startFakeAiServer();
});
afterAll(async () => {
  await runner.cleanup();
  await fake?.close();
});
beforeEach(() => fake.reset());

test('without an OpenAI key, local Tesseract reads the words', async () => {
  const png = await renderText(['Invoice', 'Total 1337']);
  const { data, usage } = await runner.runJsonOutput(png, {}, { mimeType: 'image/png', env: {} });
  expect(data.text).toBe('Invoice\nTotal 1337');
  expect(data).toMatchObject({ provider: 'tesseract', language: 'eng', usage: { provider: 'tesseract' } });
  expect(data.blocks).toHaveLength(3);
  expect(usage).toMatchObject({ provider: 'tesseract', inputTokens: 0, outputTokens: 0 });
  expect(fake.requests).toHaveLength(0);
});

test('with a key, OpenAI reads a downscaled copy and boxes come back in original pixels', async () => {
  const big = await sharp({ create: { width: 4096, height: 1024, channels: 3, background: '#ffffff' } }).jpeg().toBuffer();
  const { data, usage } = await runner.runJsonOutput(big, {}, { mimeType: 'image/jpeg', env: fake.env });
  const [req] = fake.requests;
  const sent = req!.json!.messages[1].content.find((p: { type: string }) => p.type === 'image_url').image_url.url as string;
  const meta = await sharp(Buffer.from(sent.split(',')[1]!, 'base64')).metadata();
  expect([meta.format, meta.width, meta.height]).toEqual(['png', 2048, 512]);

  expect(data).toMatchObject({ provider: 'openai', text: FAKE_OCR.text, image: { width: 4096, height: 1024 } });
  expect(data.blocks).toEqual(
    FAKE_OCR.blocks.map((b) => ({
      ...b,
      bbox: { left: b.bbox.left * 2, top: b.bbox.top * 2, width: b.bbox.width * 2, height: b.bbox.height * 2 },
    })),
  );
  expect(usage).toEqual({ provider: 'openai', model: 'gpt-4o-mini', inputTokens: req!.usage!.input, outputTokens: req!.usage!.output });
  expect(data.usage).toEqual({ provider: 'openai', model: 'gpt-4o-mini', input_tokens: req!.usage!.input, output_tokens: req!.usage!.output });
});

test('the provider parameter overrides the mapping, and must be configured', async () => {
  const png = await renderText(['HELLO']);
  const { data } = await runner.runJsonOutput(png, { provider: 'tesseract' }, { mimeType: 'image/png', env: fake.env });
  expect(data).toMatchObject({ provider: 'tesseract', text: 'HELLO' });
  expect(fake.requests).toHaveLength(0);
  await expect(runner.runJsonOutput(png, { provider: 'openai' }, { mimeType: 'image/png', env: {} })).rejects.toMatchObject({
    type: 'AI_PROVIDER_ERROR',
    message: 'AI provider openai is not configured',
  });
});

test('a corrupt image is bad input, found before any provider is called', async () => {
  const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#000' } }).jpeg().toBuffer();
  const corrupt = Buffer.concat([jpeg.subarray(0, 200), Buffer.alloc(3000, 0x41)]);
  await expect(runner.runJsonOutput(corrupt, {}, { mimeType: 'image/jpeg', env: fake.env })).rejects.toMatchObject({ type: 'INVALID_INPUT' });
  expect(fake.requests).toHaveLength(0);
});

test('parameters: every field is form-ready, bad values are refused', () => {
  expectFormReady(ocr);
  expect(runner.problems({ provider: 'gemini' })).toContain('parameters.provider');
  expect(runner.problems({ language: 'english' })).toContain('parameters.language');
  expect(runner.problems({ language: 'eng+deu' })).toEqual([]);
});
