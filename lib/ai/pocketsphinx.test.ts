import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AiProvider } from './ports.js';
import { loadConfig } from '../config.js';
import { concatAudio, librivoxRecordings, speak, wordErrorRate, type Recording } from '../../tests/support/speech.js';
import { createLocalSpeechProvider, utteranceParser } from './pocketsphinx.js';

let dir: string;
let local: AiProvider;
let recording: Recording;
const signal = () => new AbortController().signal;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mf-pocketsphinx-'));
  local = createLocalSpeechProvider({ ...loadConfig({}).ai.local, timeoutMs: 60_000 });
  recording = (await librivoxRecordings())[0]!;
});
afterAll(() => rm(dir, { recursive: true, force: true }));

test('a LibriVox recording: English words close to the reference, timed within the audio, with confidences and progress', async () => {
  const input = join(dir, 'librivox.wav');
  await copyFile(recording.path, input);
  const progress: number[] = [];
  const t = await local.transcribe!({ path: input, filename: 'audio.wav', mimeType: 'audio/wav' }, { signal: signal(), onProgress: (f) => progress.push(f) });

  expect(t).toMatchObject({ language: 'en', model: 'pocketsphinx-en-us', usage: { provider: 'local', inputTokens: 0 } });
  expect(t.duration).toBeCloseTo(7.1, 1);
  // The small US English model misses names; most of the sentence is still right.
  expect(wordErrorRate(recording.reference, t.text).wer).toBeLessThan(0.5);
  expect(t.text).toContain('consider how much there might be');

  const words = t.segments.flatMap((s) => s.words ?? []);
  expect(words.length).toBeGreaterThan(15);
  for (const w of words) {
    expect(w.word).toMatch(/^[a-z0-9'.-]+$/);
    expect(w.start).toBeGreaterThanOrEqual(0);
    expect(w.end).toBeGreaterThan(w.start);
    expect(w.end).toBeLessThanOrEqual(t.duration! + 0.01);
    expect(w.confidence).toBeGreaterThanOrEqual(0);
    expect(w.confidence).toBeLessThanOrEqual(1);
  }
  for (const s of t.segments) {
    expect(s.start).toBe(s.words![0]!.start);
    expect(s.end).toBe(s.words![s.words!.length - 1]!.end);
    expect(s.text).toBe(s.words!.map((w) => w.word).join(' '));
  }
  // Words in time order across segments.
  expect(words.map((w) => w.start)).toEqual([...words.map((w) => w.start)].sort((a, b) => a - b));
  expect(progress.length).toBeGreaterThan(3);
  expect(progress).toEqual([...progress].sort((a, b) => a - b));
  expect(progress.at(-1)).toBe(1);
});

test('speech separated by a long pause becomes separate segments at the right times', async () => {
  const a = await speak(join(dir, 'a.wav'), 'hello there');
  const input = join(dir, 'paused.wav');
  await concatAudio(input, [a, a], { gapSeconds: 3 });
  const t = await local.transcribe!({ path: input, filename: 'audio.wav', mimeType: 'audio/wav' }, { signal: signal() });
  expect(t.segments.length).toBeGreaterThanOrEqual(2);
  const first = t.segments[0]!;
  const last = t.segments.at(-1)!;
  expect(first.start).toBeLessThan(1);
  // The second utterance starts after the first one and the pause.
  expect(last.start).toBeGreaterThan(first.end + 2);
  expect(last.end).toBeLessThanOrEqual(t.duration! + 0.01);
});

test('other languages and diarization are refused; a cancelled run stops the decoder', async () => {
  const input = join(dir, 'cancel.wav');
  await copyFile(recording.path, input);
  const audio = { path: input, filename: 'audio.wav', mimeType: 'audio/wav' };
  await expect(local.transcribe!(audio, { language: 'de', signal: signal() })).rejects.toMatchObject({ type: 'INVALID_INPUT', message: expect.stringContaining('English only') });
  await expect(local.transcribe!(audio, { diarize: true, signal: signal() })).rejects.toMatchObject({ type: 'INVALID_INPUT' });
  const ac = new AbortController();
  const run = local.transcribe!(audio, { signal: ac.signal, onProgress: () => ac.abort(new Error('stop')) });
  await expect(run).rejects.toThrow('stop');
});

test('a missing decoder is a clear provider error', async () => {
  const input = join(dir, 'missing.wav');
  await copyFile(recording.path, input);
  const broken = createLocalSpeechProvider({ ...loadConfig({}).ai.local, command: '/nonexistent/pocketsphinx', timeoutMs: 5_000 });
  await expect(broken.transcribe!({ path: input, filename: 'audio.wav', mimeType: 'audio/wav' }, { signal: signal() })).rejects.toMatchObject({
    type: 'AI_PROVIDER_ERROR',
  });
});

test('the parser drops fillers and pronunciation variants and groups words by utterance', () => {
  const p = utteranceParser();
  for (const l of ['hello world', '<s> 0.000 0.100 0.99', 'hello(2) 0.110 0.400 0.8', '<sil> 0.41 0.5 0.5', '[NOISE] 0.5 0.6 0.3', 'world 0.61 0.9 0.6', '</s> 0.91 1.0 1.0', 'again', '<s> 2.0 2.1 1', 'again 2.11 2.5 0.4']) {
    p.line(l);
  }
  expect(p.segments()).toEqual([
    { id: 0, start: 0.11, end: 0.9, text: 'hello world', confidence: 0.7, words: [{ word: 'hello', start: 0.11, end: 0.4, confidence: 0.8 }, { word: 'world', start: 0.61, end: 0.9, confidence: 0.6 }] },
    { id: 1, start: 2.11, end: 2.5, text: 'again', confidence: 0.4, words: [{ word: 'again', start: 2.11, end: 2.5, confidence: 0.4 }] },
  ]);
});
