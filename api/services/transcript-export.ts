// Transcription results (segments with start/end seconds) rendered as text, SubRip, WebVTT or JSON.
// Pure functions: the handler picks the result, these only format it.

export type ExportFormat = 'txt' | 'srt' | 'vtt' | 'json';

export interface ExportFormatInfo {
  name: ExportFormat;
  format: ExportFormat;
  description: string;
  mime_type: string;
  supports_timestamps: boolean;
  content_type: string;
  extension: string;
}

const format = (name: ExportFormat, mime: string, charset: boolean, timestamps: boolean, description: string): ExportFormatInfo => ({
  name,
  format: name,
  description,
  mime_type: mime,
  supports_timestamps: timestamps,
  content_type: charset ? `${mime}; charset=utf-8` : mime,
  extension: name,
});

export const EXPORT_FORMATS: readonly ExportFormatInfo[] = [
  format('txt', 'text/plain', true, false, 'The transcript as plain text, one segment per line, speakers named.'),
  format('srt', 'application/x-subrip', false, true, 'SubRip subtitles (HH:MM:SS,mmm), speakers named.'),
  format('vtt', 'text/vtt', true, true, 'WebVTT subtitles (HH:MM:SS.mmm), speakers as voice tags.'),
  format('json', 'application/json', false, true, 'The full transcript: text, language, segments with words and confidences, speakers.'),
];

export interface Segment {
  start: number;
  end: number;
  text: string;
  speaker?: string;
  /** A linked voice profile's name: shown in place of the diarized id. */
  speaker_name?: string;
}
export interface TranscriptData {
  text?: string;
  segments: Segment[];
  [key: string]: unknown;
}

/** Whether a job's JSON result is a transcript: segments with numeric times and text. */
export function isTranscript(data: unknown): data is TranscriptData {
  if (typeof data !== 'object' || data === null) return false;
  const { segments } = data as { segments?: unknown };
  return (
    Array.isArray(segments) &&
    segments.every(
      (s: unknown) =>
        typeof s === 'object' && s !== null && typeof (s as Segment).start === 'number' && typeof (s as Segment).end === 'number' && typeof (s as Segment).text === 'string',
    )
  );
}

/** Seconds as HH:MM:SS<sep>mmm, rounded to the millisecond (hours may exceed 99). */
export function timestamp(seconds: number, separator: ',' | '.'): string {
  const total = Math.max(0, Math.round(seconds * 1000));
  const ms = total % 1000;
  const s = Math.floor(total / 1000) % 60;
  const m = Math.floor(total / 60_000) % 60;
  const h = Math.floor(total / 3_600_000);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(h)}:${two(m)}:${two(s)}${separator}${String(ms).padStart(3, '0')}`;
}

// A blank line ends a cue in both formats, so cue text keeps no empty lines.
const cueText = (text: string) =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .join('\n');

/** Segments with text, in time order; an end before its start is raised to the start; linked names shown. */
function cues(data: TranscriptData): Segment[] {
  return data.segments
    .map((s) => ({ ...s, speaker: s.speaker_name ?? s.speaker, text: cueText(s.text), end: Math.max(s.end, s.start) }))
    .filter((s) => s.text !== '')
    .sort((a, b) => a.start - b.start);
}

export function toSrt(data: TranscriptData): string {
  return cues(data)
    .map((c, i) => `${i + 1}\n${timestamp(c.start, ',')} --> ${timestamp(c.end, ',')}\n${c.speaker ? `${c.speaker}: ` : ''}${c.text}\n`)
    .join('\n');
}

const escapeVtt = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function toVtt(data: TranscriptData): string {
  const body = cues(data)
    .map((c) => `${timestamp(c.start, '.')} --> ${timestamp(c.end, '.')}\n${c.speaker ? `<v ${escapeVtt(c.speaker)}>` : ''}${escapeVtt(c.text)}\n`)
    .join('\n');
  return `WEBVTT\n\n${body}`;
}

export function toTxt(data: TranscriptData): string {
  const lines = cues(data).map((c) => (c.speaker ? `${c.speaker}: ${c.text}` : c.text));
  const text = lines.length ? lines.join('\n') : (data.text ?? '').trim();
  return text ? `${text}\n` : '';
}

export function renderTranscript(data: TranscriptData, format: ExportFormat): { body: string; contentType: string; extension: string } {
  const info = EXPORT_FORMATS.find((f) => f.format === format)!;
  const render = { txt: toTxt, srt: toSrt, vtt: toVtt, json: (d: TranscriptData) => JSON.stringify(d, null, 2) }[format];
  return { body: render(data), contentType: info.content_type, extension: info.extension };
}
