import type { AudioInput, Transcript } from '../ai.js';
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

export const segmentSchema = {
  type: 'object',
  required: ['id', 'start', 'end', 'text'],
  properties: {
    id: { type: 'integer' },
    start: { type: 'number', minimum: 0, description: 'Seconds from the start.' },
    end: { type: 'number', minimum: 0 },
    text: { type: 'string' },
    speaker: { type: 'string' },
  },
};

/**
 * The transcript as results carry it. A model that gives no timestamps yields one segment; its end
 * (unknown to the model) is the probed duration, so subtitles span the audio.
 */
export function transcriptData(t: Transcript, durationSeconds: number): Record<string, unknown> {
  const duration = round(t.duration ?? durationSeconds);
  const untimed = t.segments.length === 1 && t.segments[0]!.start === 0 && t.segments[0]!.end === 0;
  const segments = t.segments.map((s) => ({
    id: s.id,
    start: round(s.start),
    end: round(untimed ? duration : Math.max(s.end, s.start)),
    text: s.text,
    ...(s.speaker ? { speaker: s.speaker } : {}),
  }));
  return {
    text: t.text,
    duration,
    segments,
    ...(t.words?.length ? { words: t.words.map((w) => ({ word: w.word, start: round(w.start), end: round(w.end) })) } : {}),
  };
}
