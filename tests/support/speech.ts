// Real speech for the transcription tests and benchmark: the LibriVox recordings with reference
// transcripts that Debian's pocketsphinx-testdata ships, speech synthesised with espeak-ng, and
// the word error rate.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export const LIBRIVOX_DIR = process.env.LIBRIVOX_DIR ?? '/usr/share/pocketsphinx/test/data/librivox';

export interface Recording {
  id: string;
  path: string;
  reference: string;
}

/** Every recording listed in `fileids` with its line of `transcription` (`<s> words </s> (id)`). */
export async function librivoxRecordings(dir = LIBRIVOX_DIR): Promise<Recording[]> {
  const ids = (await readFile(join(dir, 'fileids'), 'utf8')).split('\n').map((l) => l.trim()).filter(Boolean);
  const refs = new Map<string, string>();
  for (const line of (await readFile(join(dir, 'transcription'), 'utf8')).split('\n')) {
    const m = /^(.*)\(([^)]+)\)\s*$/.exec(line.trim());
    if (m) refs.set(m[2]!.trim(), m[1]!.replace(/<\/?s>/g, '').trim());
  }
  return ids.map((id) => ({ id, path: join(dir, `${id}.wav`), reference: refs.get(id) ?? '' }));
}

const normalise = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9' ]+/g, ' ')
    .split(/\s+/)
    .filter(Boolean);

/** Word error rate: (substitutions + deletions + insertions) / reference words, by edit distance over words. */
export function wordErrorRate(reference: string, hypothesis: string): { errors: number; words: number; wer: number } {
  const ref = normalise(reference);
  const hyp = normalise(hypothesis);
  let prev = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ref.length; i++) {
    const row = [i];
    for (let j = 1; j <= hyp.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (ref[i - 1] === hyp[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  const errors = prev[hyp.length]!;
  return { errors, words: ref.length, wer: ref.length ? errors / ref.length : 0 };
}

/** Speech from espeak-ng as a WAV file. */
export async function speak(path: string, text: string, opts: { voice?: string; wordsPerMinute?: number } = {}): Promise<string> {
  await exec('espeak-ng', ['-v', opts.voice ?? 'en-us', '-s', String(opts.wordsPerMinute ?? 150), '-w', path, text]);
  return path;
}

/** Concatenates audio files (with optional silence between them) into one file, encoded for its extension. */
export async function concatAudio(path: string, parts: string[], opts: { gapSeconds?: number; rate?: number; extra?: string[] } = {}): Promise<string> {
  const rate = opts.rate ?? 16000;
  const gap = opts.gapSeconds ?? 0;
  const inputs = parts.flatMap((p) => ['-i', p]);
  const chain = parts
    .map((_, i) => `[${i}:a]aresample=${rate},aformat=channel_layouts=mono${gap ? `,apad=pad_dur=${gap}` : ''}[s${i}]`)
    .join(';');
  const filter = `${chain};${parts.map((_, i) => `[s${i}]`).join('')}concat=n=${parts.length}:v=0:a=1[a]`;
  await exec('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...inputs, '-filter_complex', filter, '-map', '[a]', '-ar', String(rate), ...(opts.extra ?? []), path], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return path;
}
