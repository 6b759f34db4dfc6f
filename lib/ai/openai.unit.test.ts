import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { ProviderError, type AiProvider, type AudioInput, type ImageInput } from './ports.js';
import { FAKE_DESCRIPTION, FAKE_OCR, FAKE_SPEECH, OPENAI_KEY, startFakeAiServer, type FakeAiServer } from '../../tests/support/fake-ai-server.js';
import { makeWav } from '../../tests/support/wav.js';
import { createOpenAiProvider, type OpenAiSettings } from './openai.js';

let fake: FakeAiServer;
let dir: string;
let image: ImageInput;
let audio: AudioInput;
let wav: Buffer;
const signal = new AbortController().signal;

const settings = (over: Partial<OpenAiSettings> = {}): OpenAiSettings => ({
  apiKey: OPENAI_KEY,
  baseUrl: fake.openaiBaseUrl,
  visionModel: 'gpt-4o-mini',
  transcribeModel: 'whisper-1',
  chatModel: 'gpt-4o-mini',
  maxAudioBytes: 25 * 1024 * 1024,
  timeoutMs: 5_000,
  ...over,
});
let openai: AiProvider;

beforeAll(async () => {
  fake = await startFakeAiServer();
  dir = await mkdtemp(join(tmpdir(), 'mf-openai-'));
  const png = join(dir, 'page.png');
  await sharp({ create: { width: 300, height: 100, channels: 3, background: '#ffffff' } }).png().toFile(png);
  image = { path: png, mimeType: 'image/png', width: 300, height: 100 };
  wav = await makeWav(2);
  await writeFile(join(dir, 'speech'), wav);
  audio = { path: join(dir, 'speech'), filename: 'audio.wav', mimeType: 'audio/wav' };
  openai = createOpenAiProvider(settings());
});
afterAll(async () => {
  await fake?.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => fake.reset());

const only = () => {
  expect(fake.requests).toHaveLength(1);
  return fake.requests[0]!;
};

describe('vision', () => {
  test('OCR sends the image and the key, and returns the text with boxes and usage', async () => {
    const result = await openai.ocr!(image, { language: 'deu', signal });
    const req = only();
    expect(req.path).toBe('/v1/chat/completions');
    expect(req.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    expect(req.json!.model).toBe('gpt-4o-mini');
    expect(req.json!.response_format).toEqual({ type: 'json_object' });
    const parts = req.json!.messages[1].content;
    const sent = parts.find((p: { type: string }) => p.type === 'image_url').image_url.url as string;
    expect(Buffer.from(sent.replace(/^data:image\/png;base64,/, ''), 'base64').equals(await sharp(image.path).toBuffer())).toBe(true);
    expect(parts.find((p: { type: string }) => p.type === 'text').text).toContain('deu');

    expect(result.text).toBe(FAKE_OCR.text);
    expect(result.blocks).toEqual(FAKE_OCR.blocks);
    expect(result.usage).toEqual({ provider: 'openai', model: 'gpt-4o-mini', inputTokens: req.usage!.input, outputTokens: req.usage!.output });
  });

  test('boxes outside the image are clamped and junk blocks dropped', async () => {
    fake.enqueueContent('openai', JSON.stringify({
      text: 'A',
      blocks: [{ text: 'A', confidence: 7, bbox: { left: 290, top: -5, width: 100, height: 50 } }, { text: '' }, 'junk'],
    }));
    const result = await openai.ocr!(image, { signal });
    expect(result.blocks).toEqual([{ text: 'A', confidence: 1, bbox: { left: 290, top: 0, width: 10, height: 50 } }]);
  });

  test('a reply that is not JSON is a non-retryable provider error', async () => {
    fake.enqueueContent('openai', 'Sorry, I cannot help with that.');
    await expect(openai.ocr!(image, { signal })).rejects.toMatchObject({ constructor: ProviderError, type: 'AI_PROVIDER_ERROR' });
  });

  test('describe returns caption, tags, objects and safety flags', async () => {
    const result = await openai.describeImage!(image, { signal });
    expect(result).toMatchObject(FAKE_DESCRIPTION);
    expect(result.usage!.inputTokens).toBe(only().usage!.input);
  });
});

describe('audio', () => {
  test('whisper-1 uploads the file as multipart and returns segments and words', async () => {
    const t = await openai.transcribe!(audio, { language: 'en', prompt: 'Obi-Wan', signal });
    const req = only();
    expect(req.path).toBe('/v1/audio/transcriptions');
    expect(req.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    expect(req.fields).toMatchObject({ model: 'whisper-1', response_format: 'verbose_json', language: 'en', prompt: 'Obi-Wan' });
    expect(req.fields!['timestamp_granularities[]']).toEqual(['segment', 'word']);
    expect(req.files).toEqual([expect.objectContaining({ field: 'file', filename: 'audio.wav' })]);
    expect(req.files![0]!.bytes.equals(wav)).toBe(true);

    expect(t.text).toBe(FAKE_SPEECH.join(' '));
    expect(t.segments.map((s) => s.text)).toEqual(FAKE_SPEECH);
    expect(t.segments[0]).toMatchObject({ id: 0, start: 0 });
    expect(t.segments.at(-1)!.end).toBeCloseTo(2, 1);
    expect(t.words!.map((w) => w.word)).toEqual(FAKE_SPEECH.join(' ').replace(/[.]/g, '').split(' '));
    expect(t.duration).toBeCloseTo(2, 1);
    expect(t.usage).toMatchObject({ provider: 'openai', model: 'whisper-1', inputTokens: 0, outputTokens: 0 });
  });

  test('gpt-4o-transcribe asks for json and gives one segment and token usage', async () => {
    const t = await openai.transcribe!(audio, { model: 'gpt-4o-transcribe', signal });
    const req = only();
    expect(req.fields).toMatchObject({ model: 'gpt-4o-transcribe', response_format: 'json' });
    expect(req.fields!['timestamp_granularities[]']).toBeUndefined();
    expect(t.segments).toEqual([{ id: 0, start: 0, end: 0, text: FAKE_SPEECH.join(' ') }]);
    expect(t.usage).toMatchObject({ model: 'gpt-4o-transcribe', inputTokens: req.usage!.input, outputTokens: req.usage!.output });
  });

  test('diarize uses the diarize model and labels speakers', async () => {
    const t = await openai.transcribe!(audio, { diarize: true, prompt: 'ignored', signal });
    const req = only();
    expect(req.fields).toMatchObject({ model: 'gpt-4o-transcribe-diarize', response_format: 'diarized_json', chunking_strategy: 'auto' });
    expect(req.fields!.prompt).toBeUndefined();
    expect(t.segments.map((s) => s.speaker)).toEqual(['A', 'B']);
  });

  test('translation to English goes to the translations endpoint with whisper-1', async () => {
    const t = await openai.translateAudio!(audio, { signal });
    const req = only();
    expect(req.path).toBe('/v1/audio/translations');
    expect(req.fields).toMatchObject({ model: 'whisper-1', response_format: 'verbose_json' });
    expect(t).toMatchObject({ language: 'en', text: FAKE_SPEECH.join(' ') });
  });

  test('text translation keeps one string per segment', async () => {
    const out = await openai.translateText!(['Hello.', 'Bye.'], { targetLanguage: 'de', signal });
    expect(only().json!.messages[0].content).toContain('"de"');
    expect(out.texts).toEqual(['[de] Hello.', '[de] Bye.']);
  });

  test('a file over 25 MB is refused before any upload', async () => {
    const big = join(dir, 'big');
    await writeFile(big, '');
    await truncate(big, 26 * 1024 * 1024);
    await expect(openai.transcribe!({ ...audio, path: big }, { signal })).rejects.toMatchObject({ type: 'AI_PROVIDER_ERROR' });
    expect(fake.requests).toHaveLength(0);
  });
});

describe('errors are retryable or not, and the SDK does not retry on its own', () => {
  test.each([
    ['rate_limited', 'AI_PROVIDER_UNAVAILABLE', 429],
    ['server_error', 'AI_PROVIDER_UNAVAILABLE', 500],
    ['bad_request', 'AI_PROVIDER_ERROR', 400],
  ] as const)('%s → %s', async (kind, type, status) => {
    fake.failNext('openai', kind);
    const err = await openai.ocr!(image, { signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ type, message: expect.stringContaining(`openai replied ${status}`) });
    expect(fake.requests).toHaveLength(1);
  });

  test('429 passes Retry-After on', async () => {
    fake.failNext('openai', 'rate_limited');
    await expect(openai.transcribe!(audio, { signal })).rejects.toMatchObject({ type: 'AI_PROVIDER_UNAVAILABLE', opts: { retryAfterMs: 1000 } });
  });

  test('a wrong key is not retryable and the key never appears in the message', async () => {
    const wrongKey = 'sk-wrong-key-abcdefghijklmnop';
    const bad = createOpenAiProvider(settings({ apiKey: wrongKey }));
    const err = (await bad.transcribe!(audio, { signal }).catch((e: unknown) => e)) as ProviderError;
    expect(err).toMatchObject({ type: 'AI_PROVIDER_ERROR', message: expect.stringContaining('openai replied 401') });
    expect(err.message).not.toContain(wrongKey.slice(0, 8));
    expect(only().headers.authorization).toBe(`Bearer ${wrongKey}`);
  });

  test('no server listening, and a server too slow, are retryable', async () => {
    const down = createOpenAiProvider(settings({ baseUrl: 'http://127.0.0.1:9/v1' }));
    await expect(down.ocr!(image, { signal })).rejects.toMatchObject({ type: 'AI_PROVIDER_UNAVAILABLE', message: 'openai could not be reached' });
    fake.enqueue('openai', { status: 200, body: {}, delayMs: 1_500 });
    const slow = createOpenAiProvider(settings({ timeoutMs: 300 }));
    // (Under Jest's VM realm the SDK cannot always tell a timeout from a dropped connection.)
    await expect(slow.ocr!(image, { signal })).rejects.toMatchObject({ type: 'AI_PROVIDER_UNAVAILABLE', message: expect.stringMatching(/^openai (timed out|could not be reached)$/) });
  });

  test('cancellation is not turned into a provider error', async () => {
    const ac = new AbortController();
    fake.enqueue('openai', { status: 200, body: {}, delayMs: 1_000 });
    const pending = openai.ocr!(image, { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    const err = await pending.catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(ProviderError);
    expect(err).toBeInstanceOf(Error);
  });
});
