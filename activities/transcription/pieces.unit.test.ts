// The actions that run long audio in pieces, piece by piece as the activities run them: each piece
// sent on its own, the pieces' transcripts joined with absolute times, the whole's usage the sum.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActionDefinition, AudioPieces } from '#domain/actions/types.js';
import transcribe from '#domain/actions/audio/transcribe/transcribe.js';
import translate from '#domain/actions/audio/translate/translate.js';
import { createAiProviders } from '#lib/ai/index.js';
import { createAjv } from '#lib/ajv.js';
import { loadConfig } from '#lib/config.js';
import { FAKE_SPEECH, startFakeAiServer, type FakeAiServer } from '../../tests/support/fake-ai-server.js';
import { makeWav } from '../../tests/support/wav.js';
import { stitch } from './index.js';

let fake: FakeAiServer;
let dir: string;
const DURATIONS = [2, 3];
const signal = new AbortController().signal;

beforeAll(async () => {
  fake = await startFakeAiServer();
  dir = await mkdtemp(join(tmpdir(), 'mf-pieces-'));
  for (const [i, seconds] of DURATIONS.entries()) await writeFile(join(dir, `piece-${i}.wav`), await makeWav(seconds));
});
afterAll(async () => {
  await fake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});
beforeEach(() => fake.reset());

/** Runs the action's piece hooks on the two pieces, stitches them and returns the step's output (checked against the action's schema). */
async function inPieces(action: ActionDefinition<any>, params: Record<string, unknown>) {
  const pieces = action.pieces as AudioPieces<unknown>;
  const ai = createAiProviders(loadConfig(fake.env).ai);
  const parts = [];
  let offset = 0;
  for (const [i, duration] of DURATIONS.entries()) {
    const { transcript, provider } = await pieces.run(ai, params, { path: join(dir, `piece-${i}.wav`), filename: 'audio.wav', mimeType: 'audio/wav' }, { signal });
    // As the activities hand it on: through storage, as JSON.
    parts.push({ offset, duration, provider, transcript: JSON.parse(JSON.stringify(transcript)) });
    offset += duration;
  }
  const out = pieces.result(stitch(parts, offset), parts[0]!.provider, params, offset);
  const validate = createAjv().compile(action.outputSchema);
  expect(validate(out.data) ? [] : validate.errors).toEqual([]);
  return { out: out as typeof out & { data: Record<string, any> }, provider: pieces.provider(ai, params) };
}

test('aud_translate to English: each piece to the translations endpoint, joined with absolute times and the usage of both', async () => {
  const { out, provider } = await inPieces(translate, { target_language: 'en', prompt: '' });
  expect(provider).toBe('openai');
  expect(fake.requests.map((r) => r.path)).toEqual(['/v1/audio/translations', '/v1/audio/translations']);
  expect(out.data).toMatchObject({ target_language: 'en', source_language: null, duration: 5, text: [...FAKE_SPEECH, ...FAKE_SPEECH].join(' ') });
  expect(out.data.segments.map((s: { id: number; start: number; end: number }) => [s.id, s.start, s.end])).toEqual([
    [0, 0, 1],
    [1, 1, 2],
    [2, 2, 3.5],
    [3, 3.5, 5],
  ]);
  // whisper-1 bills by duration: the pieces' seconds add up to the recording's.
  expect(out.data.usage).toMatchObject({ provider: 'openai', model: 'whisper-1', audio_seconds: 5 });
  expect(out.usage).toMatchObject({ provider: 'openai', model: 'whisper-1' });
});

test('aud_translate to German: each piece transcribed and its segments translated on their own; the chat tokens of both are counted', async () => {
  const { out } = await inPieces(translate, { target_language: 'de', prompt: '' });
  expect(fake.requests.map((r) => r.path)).toEqual(['/v1/audio/transcriptions', '/v1/chat/completions', '/v1/audio/transcriptions', '/v1/chat/completions']);
  const chats = fake.requests.filter((r) => r.path === '/v1/chat/completions');
  expect(out.data).toMatchObject({ target_language: 'de', source_language: 'english' });
  expect(out.data.segments.map((s: { start: number; text: string }) => [s.start, s.text])).toEqual([
    [0, `[de] ${FAKE_SPEECH[0]}`],
    [1, `[de] ${FAKE_SPEECH[1]}`],
    [2, `[de] ${FAKE_SPEECH[0]}`],
    [3.5, `[de] ${FAKE_SPEECH[1]}`],
  ]);
  expect(out.usage).toEqual({
    provider: 'openai',
    model: 'whisper-1+gpt-4o-mini',
    inputTokens: chats.reduce((n, c) => n + c.usage!.input, 0),
    outputTokens: chats.reduce((n, c) => n + c.usage!.output, 0),
  });
});

test('aud_transcribe runs its pieces through the same hooks', async () => {
  const { out, provider } = await inPieces(transcribe, { model: 'whisper-1', language: 'auto', diarize: false, prompt: '' });
  expect(provider).toBe('openai');
  expect(fake.requests.map((r) => r.path)).toEqual(['/v1/audio/transcriptions', '/v1/audio/transcriptions']);
  expect(out.data.segments.at(-1)).toMatchObject({ start: 3.5, end: 5 });
  expect(out.data.segments[2].words[0]).toMatchObject({ start: 2 });
});
