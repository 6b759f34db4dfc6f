import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { ProviderError, type ImageInput } from './ports.js';
import { ANTHROPIC_KEY, FAKE_DESCRIPTION, FAKE_OCR, presentedKey, startFakeAiServer, type FakeAiServer } from '../../tests/support/fake-ai-server.js';
import { createAnthropicProvider, type AnthropicSettings } from './anthropic.js';

let fake: FakeAiServer;
let dir: string;
let image: ImageInput;
const signal = new AbortController().signal;
const settings = (over: Partial<AnthropicSettings> = {}): AnthropicSettings => ({
  apiKey: ANTHROPIC_KEY,
  baseUrl: fake.anthropicBaseUrl,
  model: 'claude-sonnet-5-5',
  timeoutMs: 5_000,
  ...over,
});

beforeAll(async () => {
  fake = await startFakeAiServer();
  dir = await mkdtemp(join(tmpdir(), 'mf-anthropic-'));
  const jpg = join(dir, 'photo.jpg');
  await sharp({ create: { width: 300, height: 200, channels: 3, background: '#cc2222' } }).jpeg().toFile(jpg);
  image = { path: jpg, mimeType: 'image/jpeg', width: 300, height: 200 };
});
afterAll(async () => {
  await fake?.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => fake.reset());

test('describe sends the image as a base64 block with key and version headers', async () => {
  const result = await createAnthropicProvider(settings()).describeImage!(image, { signal });
  expect(fake.requests).toHaveLength(1);
  const req = fake.requests[0]!;
  expect(req.path).toBe('/v1/messages');
  expect(presentedKey(req)).toBe(ANTHROPIC_KEY);
  expect(req.headers['anthropic-version']).toEqual(expect.any(String));
  expect(req.json).toMatchObject({ model: 'claude-sonnet-5-5', max_tokens: expect.any(Number) });
  const block = req.json!.messages[0].content.find((b: { type: string }) => b.type === 'image');
  expect(block.source).toMatchObject({ type: 'base64', media_type: 'image/jpeg' });
  expect(Buffer.from(block.source.data, 'base64').equals(await sharp(image.path).toBuffer())).toBe(true);

  // The fake wraps its JSON in a Markdown fence, as Claude sometimes does.
  expect(result).toMatchObject(FAKE_DESCRIPTION);
  expect(result.usage).toEqual({ provider: 'anthropic', model: 'claude-sonnet-5-5', inputTokens: req.usage!.input, outputTokens: req.usage!.output });
});

test('OCR through Claude returns blocks', async () => {
  const result = await createAnthropicProvider(settings()).ocr!(image, { signal });
  expect(result.text).toBe(FAKE_OCR.text);
  expect(result.blocks).toEqual(FAKE_OCR.blocks);
});

test.each([
  ['rate_limited', 'AI_PROVIDER_UNAVAILABLE', 429],
  ['server_error', 'AI_PROVIDER_UNAVAILABLE', 500],
  ['bad_request', 'AI_PROVIDER_ERROR', 400],
  ['unauthorized', 'AI_PROVIDER_ERROR', 401],
] as const)('%s → %s, with one request only', async (kind, type, status) => {
  fake.failNext('anthropic', kind);
  const err = await createAnthropicProvider(settings()).describeImage!(image, { signal }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ProviderError);
  expect(err).toMatchObject({ type, message: expect.stringContaining(`anthropic replied ${status}`) });
  expect(fake.requests).toHaveLength(1);
});

test('a wrong key is refused by the server and reported without the key', async () => {
  const key = 'sk-ant-wrong-1234567890';
  const err = (await createAnthropicProvider(settings({ apiKey: key })).describeImage!(image, { signal }).catch((e: unknown) => e)) as Error;
  expect(err).toMatchObject({ type: 'AI_PROVIDER_ERROR', message: 'anthropic replied 401: invalid x-api-key' });
  expect(presentedKey(fake.requests[0]!)).toBe(key);
});

test('an unreachable server is retryable', async () => {
  const err = await createAnthropicProvider(settings({ baseUrl: 'http://127.0.0.1:9' })).describeImage!(image, { signal }).catch((e: unknown) => e);
  expect(err).toMatchObject({ type: 'AI_PROVIDER_UNAVAILABLE' });
});
