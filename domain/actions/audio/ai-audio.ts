import type { AudioInput, Transcript } from '#lib/ai/ports.js';
import type { ActionContext } from '../types.js';
import { openAudio, round } from './audio-io.js';

// Providers tell the format by the file name's extension; keyed by the MIME type the upload detected.
const EXTENSIONS: Record<string, string> = {
  'audio/mpeg': 'mp3',
  'audio/wav': 'wav',
  'audio/flac': 'flac',
  'audio/ogg': 'ogg',
  'audio/mp4': 'm4a',
  'audio/webm': 'webm',
};

/**
 * Probes the input first (a corrupt or over-long file is bad input, found before a provider is
 * paid), then names it so the provider recognises the format.
 */
export async function openAudioForAi(ctx: ActionContext<unknown>): Promise<{ audio: AudioInput; durationSeconds: number }> {
  const opened = await openAudio(ctx);
  const extension = EXTENSIONS[ctx.inputMimeType] ?? 'wav';
  return { audio: { path: ctx.inputPath, filename: `audio.${extension}`, mimeType: ctx.inputMimeType }, durationSeconds: opened.durationSeconds };
}

const wordSchema = {
  type: 'object',
  required: ['word', 'start', 'end'],
  properties: {
    word: { type: 'string' },
    start: { type: 'number', minimum: 0 },
    end: { type: 'number', minimum: 0 },
    confidence: { type: 'number', minimum: 0, maximum: 1 },
  },
};

export const segmentSchema = {
  type: 'object',
  required: ['id', 'start', 'end', 'text', 'words'],
  properties: {
    id: { type: 'integer' },
    start: { type: 'number', minimum: 0, description: 'Seconds from the start.' },
    end: { type: 'number', minimum: 0 },
    text: { type: 'string' },
    speaker: { type: 'string' },
    confidence: { type: 'number', minimum: 0, maximum: 1 },
    words: { type: 'array', items: wordSchema, description: 'Empty when the model does not time words.' },
  },
};

/** What every transcript result carries besides its segments (one shape for every provider). */
export const transcriptProperties = {
  text: { type: 'string' },
  duration: { type: 'number', description: 'Seconds.' },
  segments: { type: 'array', items: segmentSchema },
  speakers: {
    type: 'array',
    description: 'When diarized: each speaker and the ids of the segments they speak.',
    items: {
      type: 'object',
      required: ['id', 'segments'],
      properties: { id: { type: 'string' }, segments: { type: 'array', items: { type: 'integer' } } },
    },
  },
  word_count: { type: 'integer', minimum: 0 },
  confidence: { type: ['number', 'null'], minimum: 0, maximum: 1, description: 'Mean over the segments, weighted by length; null when the model does not say.' },
};
export const TRANSCRIPT_REQUIRED = ['text', 'duration', 'segments', 'word_count', 'confidence'];

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/**
 * The transcript as results carry it. A model that gives no timestamps yields one segment; its end
 * (unknown to the model) is the probed duration, so subtitles span the audio. Words given apart
 * from the segments (Whisper) go into the segment they fall in.
 */
export function transcriptData(t: Transcript, durationSeconds: number): Record<string, unknown> {
  const duration = round(t.duration ?? durationSeconds);
  const untimed = t.segments.length === 1 && t.segments[0]!.start === 0 && t.segments[0]!.end === 0;
  const loose = assignWords(t.segments, t.words ?? []);
  const segments = t.segments.map((s, i) => {
    const words = (s.words?.length ? s.words : loose[i]!).map((w) => ({
      word: w.word,
      start: round(w.start),
      end: round(Math.max(w.end, w.start)),
      ...(w.confidence !== undefined ? { confidence: round3(w.confidence) } : {}),
    }));
    return {
      id: s.id,
      start: round(s.start),
      end: round(untimed ? duration : Math.max(s.end, s.start)),
      text: s.text,
      ...(s.speaker ? { speaker: s.speaker } : {}),
      ...(s.confidence !== undefined ? { confidence: round3(s.confidence) } : {}),
      words,
    };
  });
  const speakerIds = [...new Set(segments.flatMap((s) => (s.speaker ? [s.speaker] : [])))];
  const wordCount = segments.reduce((n, s) => n + (s.words.length || countWords(s.text)), 0);
  return {
    text: t.text,
    duration,
    segments,
    ...(speakerIds.length ? { speakers: speakerIds.map((id) => ({ id, segments: segments.filter((s) => s.speaker === id).map((s) => s.id) })) } : {}),
    word_count: segments.length ? wordCount : countWords(t.text),
    confidence: overallConfidence(segments),
  };
}

const countWords = (text: string) => text.split(/\s+/).filter(Boolean).length;

/** Each word into the segment holding its midpoint, else the nearest one. */
function assignWords(segments: Transcript['segments'], words: NonNullable<Transcript['words']>) {
  const out = segments.map(() => [] as NonNullable<Transcript['words']>);
  if (!segments.length) return out;
  for (const w of words) {
    const mid = (w.start + w.end) / 2;
    let best = 0;
    let bestDistance = Infinity;
    segments.forEach((s, i) => {
      const distance = mid < s.start ? s.start - mid : mid > s.end ? mid - s.end : 0;
      if (distance < bestDistance) [best, bestDistance] = [i, distance];
    });
    out[best]!.push(w);
  }
  return out;
}

function overallConfidence(segments: { start: number; end: number; confidence?: number }[]): number | null {
  const scored = segments.filter((s) => s.confidence !== undefined);
  if (!scored.length) return null;
  const weight = (s: { start: number; end: number }) => Math.max(s.end - s.start, 0.01);
  const total = scored.reduce((n, s) => n + weight(s), 0);
  return round3(scored.reduce((n, s) => n + weight(s) * s.confidence!, 0) / total);
}
