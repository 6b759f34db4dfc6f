import sharp from 'sharp';
import { FAKE_DESCRIPTION, startFakeAiServer, type FakeAiServer } from '../../../../tests/support/fake-ai-server.js';
import { actionRunner } from '../../../../tests/support/action-run.js';
import { expectFormReady } from '../../../../tests/support/action-run.js';
import describeAction from './describe.js';

let fake: FakeAiServer;
const runner = actionRunner(describeAction);
let photo: Buffer;
beforeAll(async () => {
  fake = await startFakeAiServer();
  photo = await sharp({ create: { width: 3000, height: 2000, channels: 3, background: '#c02020' } }).jpeg().toBuffer();
});
afterAll(async () => {
  await runner.cleanup();
  await fake?.close();
});
beforeEach(() => fake.reset());

test('Claude describes by default: caption, tags, objects, safety and usage', async () => {
  const { data, usage } = await runner.runJsonOutput(photo, {}, { mimeType: 'image/jpeg', env: fake.env });
  expect(fake.requests.map((r) => r.path)).toEqual(['/v1/messages']);
  const image = fake.requests[0]!.json!.messages[0].content.find((b: { type: string }) => b.type === 'image');
  const meta = await sharp(Buffer.from(image.source.data, 'base64')).metadata();
  expect(Math.max(meta.width!, meta.height!)).toBe(1568);
  expect(data).toEqual({ ...FAKE_DESCRIPTION, provider: 'anthropic', usage: expect.objectContaining({ provider: 'anthropic', model: 'claude-sonnet-5-5' }) });
  expect(usage!.inputTokens + usage!.outputTokens).toBe(fake.requests[0]!.usage!.input + fake.requests[0]!.usage!.output);
});

test('openai can be asked for instead', async () => {
  const { data } = await runner.runJsonOutput(photo, { provider: 'openai' }, { mimeType: 'image/jpeg', env: fake.env });
  expect(fake.requests.map((r) => r.path)).toEqual(['/v1/chat/completions']);
  expect(data).toMatchObject({ ...FAKE_DESCRIPTION, provider: 'openai' });
});

test('no Anthropic key and no OpenAI key: a clear non-retryable error', async () => {
  await expect(runner.runJsonOutput(photo, {}, { mimeType: 'image/jpeg', env: {} })).rejects.toMatchObject({
    type: 'AI_PROVIDER_ERROR',
    message: expect.stringContaining('mapped to anthropic'),
  });
});

test('provider errors keep their retry class', async () => {
  fake.failNext('anthropic', 'server_error');
  await expect(runner.runJsonOutput(photo, {}, { mimeType: 'image/jpeg', env: fake.env })).rejects.toMatchObject({ type: 'AI_PROVIDER_UNAVAILABLE' });
  fake.failNext('anthropic', 'bad_request');
  await expect(runner.runJsonOutput(photo, {}, { mimeType: 'image/jpeg', env: fake.env })).rejects.toMatchObject({ type: 'AI_PROVIDER_ERROR' });
  expect(describeAction.nonRetryableErrors).toEqual(expect.arrayContaining(['AI_PROVIDER_ERROR', 'INVALID_INPUT']));
  expect(describeAction.nonRetryableErrors).not.toContain('AI_PROVIDER_UNAVAILABLE');
});

test('parameters are form-ready', () => {
  expectFormReady(describeAction);
  expect(runner.problems({ provider: 'tesseract' })).toContain('parameters.provider');
});
