import { FAKE_LANGUAGE, FAKE_SPEECH, startFakeAiServer, type FakeAiServer } from '../../../../tests/support/fake-ai-server.js';
import { actionRunner } from '../../../../tests/support/action-run.js';
import { expectFormReady } from '../../../../tests/support/action-run.js';
import { makeWav } from '../../../../tests/support/wav.js';
import { readFile } from 'node:fs/promises';
import { librivoxRecordings, wordErrorRate } from '../../../../tests/support/speech.js';
import transcribe from './transcribe.js';

let fake: FakeAiServer;
let wav: Buffer;
const runner = actionRunner(transcribe);
const run = (params: Record<string, unknown>, input = wav) => runner.runJsonOutput(input, params, { mimeType: 'audio/wav', env: fake.env });

beforeAll(async () => {
  fake = await startFakeAiServer();
  wav = await makeWav(3);
});
afterAll(async () => {
  await runner.cleanup();
  await fake?.close();
});
beforeEach(() => fake.reset());

test('whisper-1 by default: the audio uploaded as audio.wav, segments and words back, language detected', async () => {
  const { data, usage } = await run({});
  const [req] = fake.requests;
  expect(req!.files![0]).toMatchObject({ filename: 'audio.wav', type: 'audio/wav' });
  expect(req!.files![0]!.bytes.equals(wav)).toBe(true);
  expect(req!.fields).toMatchObject({ model: 'whisper-1', response_format: 'verbose_json' });
  expect(req!.fields!.language).toBeUndefined();

  expect(data).toMatchObject({ text: FAKE_SPEECH.join(' '), language: FAKE_LANGUAGE, language_detected: true, model: 'whisper-1', requested_model: 'auto', provider: 'openai', duration: 3 });
  // Whisper's words go into the segment they fall in; avg_logprob -0.2 is a confidence of e^-0.2.
  expect(data.segments).toEqual([
    { id: 0, start: 0, end: 1.5, text: FAKE_SPEECH[0], confidence: 0.819, words: [{ word: 'Hello', start: 0, end: 0.75 }, { word: 'there', start: 0.75, end: 1.5 }] },
    { id: 1, start: 1.5, end: 3, text: FAKE_SPEECH[1], confidence: 0.819, words: [{ word: 'General', start: 1.5, end: 2.25 }, { word: 'Kenobi', start: 2.25, end: 3 }] },
  ]);
  expect(data).toMatchObject({ word_count: 4, confidence: 0.819 });
  expect(data.speakers).toBeUndefined();
  expect(usage).toMatchObject({ provider: 'openai', model: 'whisper-1' });
  expect(data.usage).toMatchObject({ provider: 'openai', audio_seconds: 3 });
});

test('a requested language and prompt are sent and reported as requested', async () => {
  const { data } = await run({ language: 'de', prompt: 'Kenobi' });
  expect(fake.requests[0]!.fields).toMatchObject({ language: 'de', prompt: 'Kenobi' });
  expect(data).toMatchObject({ language: 'de', language_detected: false });
});

test('gpt-4o-transcribe: one segment spanning the probed duration, tokens recorded', async () => {
  const { data, usage } = await run({ model: 'gpt-4o-transcribe' });
  const [req] = fake.requests;
  expect(req!.fields).toMatchObject({ model: 'gpt-4o-transcribe', response_format: 'json' });
  expect(data.segments).toEqual([{ id: 0, start: 0, end: 3, text: FAKE_SPEECH.join(' '), words: [] }]);
  expect(data).toMatchObject({ language: null, language_detected: false, duration: 3, word_count: 4, confidence: null });
  expect(usage).toEqual({ provider: 'openai', model: 'gpt-4o-transcribe', inputTokens: req!.usage!.input, outputTokens: req!.usage!.output });
});

test('diarize labels speakers', async () => {
  const { data } = await run({ diarize: true });
  expect(fake.requests[0]!.fields!.model).toBe('gpt-4o-transcribe-diarize');
  expect(data.segments.map((s: { speaker: string }) => s.speaker)).toEqual(['A', 'B']);
  expect(data.speakers).toEqual([
    { id: 'A', segments: [0] },
    { id: 'B', segments: [1] },
  ]);
});

test('the Whisper sizes run as whisper-1 on OpenAI', async () => {
  const { data } = await run({ model: 'medium' });
  expect(fake.requests[0]!.fields).toMatchObject({ model: 'whisper-1' });
  expect(data).toMatchObject({ model: 'whisper-1', requested_model: 'medium', provider: 'openai' });
});

test('without an OpenAI key, auto and local transcribe on the local engine: words, times and confidences, no request out', async () => {
  const [recording] = await librivoxRecordings();
  const speech = await readFile(recording!.path);
  for (const model of ['auto', 'local']) {
    const { data, usage } = await runner.runJsonOutput(speech, { model }, { mimeType: 'audio/wav', env: {} });
    expect(data).toMatchObject({ provider: 'local', model: 'pocketsphinx-en-us', requested_model: model, language: 'en', language_detected: true });
    expect(usage).toMatchObject({ provider: 'local', inputTokens: 0, outputTokens: 0 });
    expect(wordErrorRate(recording!.reference, data.text).wer).toBeLessThan(0.5);
    expect(data.word_count).toBe(data.segments.flatMap((s: { words: unknown[] }) => s.words).length);
    expect(data.confidence).toBeGreaterThan(0);
    expect(data.confidence).toBeLessThanOrEqual(1);
  }
  expect(fake.requests).toHaveLength(0);
});

test('a model whose provider is not reachable is refused before the job runs', () => {
  const check = (params: Record<string, unknown>, providers: string[]) =>
    transcribe.checkAvailability!({ model: 'auto', language: 'auto', diarize: false, prompt: '', ...params } as never, providers as never);
  expect(check({ model: 'medium' }, ['tesseract', 'local'])).toEqual({ model: expect.stringContaining('no OpenAI key') });
  expect(check({ model: 'medium' }, ['openai', 'local'])).toEqual({});
  expect(check({ diarize: true }, ['local'])).toEqual({ diarize: expect.stringContaining('OpenAI') });
  expect(check({ model: 'local', language: 'de' }, ['openai', 'local'])).toEqual({ language: expect.stringContaining('English') });
  expect(check({ model: 'local', diarize: true }, ['openai', 'local'])).toEqual({ diarize: expect.any(String) });
  expect(check({}, ['local'])).toEqual({});
  expect(check({ language: 'fr' }, ['openai', 'local'])).toEqual({});
});

test('audio that is not audio is bad input before any upload; a provider 401 is not retryable', async () => {
  await expect(run({}, Buffer.concat([wav.subarray(0, 44), Buffer.from('not really audio at all')]))).rejects.toMatchObject({ type: 'INVALID_INPUT' });
  expect(fake.requests).toHaveLength(0);
  await expect(runner.runJsonOutput(wav, {}, { mimeType: 'audio/wav', env: { ...fake.env, OPENAI_API_KEY: 'sk-wrong-0000000000' } })).rejects.toMatchObject({
    type: 'AI_PROVIDER_ERROR',
    message: expect.stringContaining('openai replied 401'),
  });
});

test('parameters are form-ready', () => {
  expectFormReady(transcribe);
  expect(runner.problems({ language: 'english' })).toContain('parameters.language');
  expect(runner.problems({ model: 'huge' })).toContain('parameters.model');
});
