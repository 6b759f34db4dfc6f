import { FAKE_SPEECH, startFakeAiServer, type FakeAiServer } from '../../../../tests/support/fake-ai-server.js';
import { actionRunner } from '../../../../tests/support/action-run.js';
import { expectFormReady } from '../../../../tests/support/action-run.js';
import { makeWav } from '../../../../tests/support/wav.js';
import translate from './translate.js';

let fake: FakeAiServer;
let wav: Buffer;
const runner = actionRunner(translate);
const run = (params: Record<string, unknown>) => runner.runJsonOutput(wav, params, { mimeType: 'audio/wav', env: fake.env });

beforeAll(async () => {
  fake = await startFakeAiServer();
  wav = await makeWav(2);
});
afterAll(async () => {
  await runner.cleanup();
  await fake?.close();
});
beforeEach(() => fake.reset());

test('to English: the translations endpoint, with timestamps', async () => {
  const { data, usage } = await run({});
  expect(fake.requests.map((r) => r.path)).toEqual(['/v1/audio/translations']);
  expect(fake.requests[0]!.fields).toMatchObject({ model: 'whisper-1', response_format: 'verbose_json' });
  expect(data).toMatchObject({ target_language: 'en', text: FAKE_SPEECH.join(' '), duration: 2 });
  expect(data.segments.map((s: { text: string }) => s.text)).toEqual(FAKE_SPEECH);
  expect(usage).toMatchObject({ provider: 'openai', model: 'whisper-1' });
});

test('to another language: transcribe, then translate the segments in one chat request, timings kept', async () => {
  const { data, usage } = await run({ target_language: 'de' });
  expect(fake.requests.map((r) => r.path)).toEqual(['/v1/audio/transcriptions', '/v1/chat/completions']);
  const chat = fake.requests[1]!;
  expect(JSON.parse(chat.json!.messages[1].content)).toEqual({ texts: FAKE_SPEECH });
  expect(data).toMatchObject({ target_language: 'de', source_language: 'english' });
  expect(data.segments).toEqual([
    { id: 0, start: 0, end: 1, text: `[de] ${FAKE_SPEECH[0]}`, confidence: 0.819, words: [] },
    { id: 1, start: 1, end: 2, text: `[de] ${FAKE_SPEECH[1]}`, confidence: 0.819, words: [] },
  ]);
  expect(data).toMatchObject({ word_count: 6, confidence: 0.819 });
  expect(data.text).toBe(FAKE_SPEECH.map((s) => `[de] ${s}`).join(' '));
  // Whisper bills by duration; the chat tokens are what is counted.
  expect(usage).toEqual({ provider: 'openai', model: 'whisper-1+gpt-4o-mini', inputTokens: chat.usage!.input, outputTokens: chat.usage!.output });
});

test('a translation that loses the segment alignment still gives the text, as one segment', async () => {
  // The transcription gets the default reply (two segments); the chat reply has one string for both.
  const texts = ['Alles zusammen.'];
  fake.enqueue('openai', { status: 200, body: { task: 'transcribe', language: 'english', duration: 2, text: FAKE_SPEECH.join(' '),
    segments: [{ id: 0, start: 0, end: 1, text: FAKE_SPEECH[0] }, { id: 1, start: 1, end: 2, text: FAKE_SPEECH[1] }] } });
  fake.enqueueContent('openai', JSON.stringify({ translations: texts }));
  const { data } = await run({ target_language: 'de' });
  expect(data.segments).toEqual([{ id: 0, start: 0, end: 2, text: texts[0], words: [] }]);
  expect(data.text).toBe(texts[0]);
});

test('parameters are form-ready', () => {
  expectFormReady(translate);
  expect(runner.problems({ target_language: 'german' })).toContain('parameters.target_language');
  expect(runner.problems({ target_language: 'pt-BR' })).toEqual([]);
});
