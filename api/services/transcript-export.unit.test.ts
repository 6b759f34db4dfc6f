import { EXPORT_FORMATS, isTranscript, renderTranscript, timestamp, toSrt, toTxt, toVtt } from './transcript-export.js';

const data = {
  text: 'Hello there. General Kenobi.',
  language: 'english',
  segments: [
    { id: 0, start: 0, end: 1.5, text: ' Hello there. ' },
    { id: 1, start: 3661.2345, end: 3662.9996, text: 'General <Kenobi> & co.\n\nYou are a bold one.' },
  ],
};

test('timestamps: comma for SubRip, dot for WebVTT, millisecond rounding and carries', () => {
  expect(timestamp(0, ',')).toBe('00:00:00,000');
  expect(timestamp(1.5, ',')).toBe('00:00:01,500');
  expect(timestamp(3661.2345, '.')).toBe('01:01:01.235');
  expect(timestamp(59.9996, ',')).toBe('00:01:00,000');
  expect(timestamp(360_000, '.')).toBe('100:00:00.000');
  expect(timestamp(-1, ',')).toBe('00:00:00,000');
});

test('SubRip: numbered cues, blank line between, no blank line inside a cue', () => {
  expect(toSrt(data)).toBe(
    '1\n00:00:00,000 --> 00:00:01,500\nHello there.\n\n' +
      '2\n01:01:01,235 --> 01:01:03,000\nGeneral <Kenobi> & co.\nYou are a bold one.\n',
  );
});

test('WebVTT: header, dot timestamps, escaped text, speakers as voice tags', () => {
  expect(toVtt(data)).toBe(
    'WEBVTT\n\n' +
      '00:00:00.000 --> 00:00:01.500\nHello there.\n\n' +
      '01:01:01.235 --> 01:01:03.000\nGeneral &lt;Kenobi&gt; &amp; co.\nYou are a bold one.\n',
  );
  const diarized = { segments: [{ start: 2, end: 1, text: 'Hi', speaker: 'A' }] };
  expect(toVtt(diarized)).toBe('WEBVTT\n\n00:00:02.000 --> 00:00:02.000\n<v A>Hi\n');
  expect(toSrt(diarized)).toBe('1\n00:00:02,000 --> 00:00:02,000\nA: Hi\n');
});

test('text: one line per segment, or the text when there are no segments', () => {
  expect(toTxt(data)).toBe('Hello there.\nGeneral <Kenobi> & co.\nYou are a bold one.\n');
  expect(toTxt({ text: ' Only text ', segments: [] })).toBe('Only text\n');
  expect(toTxt({ segments: [] })).toBe('');
});

test('segments are put in time order and empty ones skipped', () => {
  const out = toSrt({ segments: [{ start: 5, end: 6, text: 'second' }, { start: 1, end: 2, text: '  ' }, { start: 0, end: 1, text: 'first' }] });
  expect(out).toBe('1\n00:00:00,000 --> 00:00:01,000\nfirst\n\n2\n00:00:05,000 --> 00:00:06,000\nsecond\n');
});

test('render picks content type and extension; json is the whole document', () => {
  expect(renderTranscript(data, 'srt')).toMatchObject({ contentType: 'application/x-subrip', extension: 'srt' });
  expect(renderTranscript(data, 'vtt').contentType).toBe('text/vtt; charset=utf-8');
  expect(renderTranscript(data, 'txt').contentType).toBe('text/plain; charset=utf-8');
  expect(JSON.parse(renderTranscript(data, 'json').body)).toEqual(data);
  expect(EXPORT_FORMATS.map((f) => f.format)).toEqual(['txt', 'srt', 'vtt', 'json']);
});

test('only results with timed segments are transcripts', () => {
  expect(isTranscript(data)).toBe(true);
  expect(isTranscript({ segments: [] })).toBe(true);
  expect(isTranscript({ width: 10 })).toBe(false);
  expect(isTranscript({ segments: [{ start: '0', end: 1, text: 'x' }] })).toBe(false);
  expect(isTranscript(null)).toBe(false);
  expect(isTranscript([])).toBe(false);
});
