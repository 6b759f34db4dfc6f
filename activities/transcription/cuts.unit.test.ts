import { planCuts, silenceParser, wavSeconds } from './cuts.js';
import { stitch } from './index.js';

test('cuts fall in the middle of the longest silence in the second half of each window', () => {
  const silences = [
    { start: 2, end: 3 },
    { start: 6, end: 6.4 },
    { start: 7, end: 8 },
    { start: 13, end: 13.2 },
  ];
  // Window 0–10: silences at 6.2 (0.4 s) and 7.5 (1 s) are in its second half; the longer wins.
  // Window 7.5–17.5: 13.1 is the only one past 12.5. Then 13.1–25 fits no more: hard cut at 23.1.
  expect(planCuts(25, silences, 10)).toEqual([7.5, 13.1, 23.1]);
  expect(planCuts(9, silences, 10)).toEqual([]);
  // Every piece fits.
  const cuts = planCuts(3600, [], 161);
  const bounds = [0, ...cuts, 3600];
  expect(bounds.slice(1).every((b, i) => b - bounds[i]! <= 161 && b > bounds[i]!)).toBe(true);
});

test('silencedetect lines become silences; one still open at the end runs to the end', () => {
  const p = silenceParser();
  for (const l of [
    '[silencedetect @ 0x55] silence_start: 1.5',
    '[silencedetect @ 0x55] silence_end: 2.25 | silence_duration: 0.75',
    'size=N/A time=00:00:03.00 bitrate=N/A',
    '[silencedetect @ 0x55] silence_start: 9.1',
  ]) p.line(l);
  expect(p.silences(10)).toEqual([{ start: 1.5, end: 2.25 }, { start: 9.1, end: 10 }]);
});

test('a WAV header gives the seconds of audio, also when the muxer left the data size unset', () => {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt32LE(32000, 28);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(64000, 40);
  expect(wavSeconds(header, 44 + 64000)).toBe(2);
  header.writeUInt32LE(0xffffffff, 40);
  expect(wavSeconds(header, 44 + 16000)).toBe(0.5);
  expect(() => wavSeconds(Buffer.alloc(44), 44)).toThrow('not a WAV file');
});

test('stitching moves every time by its piece’s offset, renumbers segments and adds up usage', () => {
  const usage = (s: number) => ({ provider: 'openai' as const, model: 'whisper-1', inputTokens: 0, outputTokens: 0, audioSeconds: s });
  const t = stitch(
    [
      { offset: 0, duration: 10, transcript: { text: 'one two', language: 'en', segments: [{ id: 0, start: 1, end: 2, text: 'one two' }], words: [{ word: 'one', start: 1, end: 1.5 }], usage: usage(10) } },
      { offset: 10, duration: 5, transcript: { text: 'three', segments: [{ id: 0, start: 0, end: 0, text: 'three' }], usage: usage(5) } },
      { offset: 15, duration: 5, transcript: { text: 'four', segments: [{ id: 0, start: 0.5, end: 1, text: 'four', words: [{ word: 'four', start: 0.5, end: 1, confidence: 0.9 }] }] } },
    ],
    20,
  );
  expect(t.text).toBe('one two three four');
  expect(t.language).toBe('en');
  expect(t.duration).toBe(20);
  // An untimed segment (a model without timestamps) spans its piece.
  expect(t.segments).toEqual([
    { id: 0, start: 1, end: 2, text: 'one two' },
    { id: 1, start: 10, end: 15, text: 'three' },
    { id: 2, start: 15.5, end: 16, text: 'four', words: [{ word: 'four', start: 15.5, end: 16, confidence: 0.9 }] },
  ]);
  expect(t.words).toEqual([{ word: 'one', start: 1, end: 1.5 }]);
  expect(t.usage).toMatchObject({ audioSeconds: 15 });
});
