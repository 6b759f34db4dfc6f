import { execFile, spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { AI_PROVIDER_ERROR, AI_PROVIDER_UNAVAILABLE, type AiProvider, type TranscriptSegment, type TranscriptWord, ProviderError } from './ports.js';
import type { AiConfig } from '../config.js';

export type LocalSpeechSettings = AiConfig['local'] & { ffmpegPath?: string; timeoutMs: number };

/** What the model files recognise; reported as the transcript's model. */
export const LOCAL_MODEL = 'pocketsphinx-en-us';
export const LOCAL_LANGUAGE = 'en';
/** The decoder's input: 16 kHz mono 16-bit PCM (the acoustic model's sample rate). */
const SAMPLE_RATE = 16_000;
const BYTES_PER_SECOND = SAMPLE_RATE * 2;
/** A decoder run may take this many times the audio's length before it is stopped (on top of the request timeout). */
const MAX_REAL_TIME_FACTOR = 4;

/**
 * Local speech recognition with CMU PocketSphinx (Debian's `pocketsphinx_continuous`, US English
 * model): no key, no network. The input is re-encoded to 16 kHz mono, the decoder splits it into
 * utterances at pauses (one segment each) and prints every word with its start, end and posterior
 * probability, which is the word's confidence. Its output is read as it comes, so progress is the
 * time decoded so far over the audio's length.
 */
export function createLocalSpeechProvider(s: LocalSpeechSettings): AiProvider {
  return {
    name: 'local',
    async transcribe(audio, { language, diarize, signal, onProgress }) {
      if (language && language !== LOCAL_LANGUAGE) {
        throw new ProviderError('INVALID_INPUT', `the local speech engine recognises English only (language "${LOCAL_LANGUAGE}"), not "${language}"`);
      }
      if (diarize) throw new ProviderError('INVALID_INPUT', 'the local speech engine cannot tell speakers apart; diarization needs the openai provider');
      const wav = `${audio.path}.16k.wav`;
      await toDecoderWav(s.ffmpegPath ?? 'ffmpeg', audio.path, wav, signal);
      const duration = Math.max(0, ((await stat(wav)).size - 44) / BYTES_PER_SECOND);
      const segments = await decode(s, wav, duration, signal, onProgress);
      onProgress?.(1);
      return {
        text: segments.map((seg) => seg.text).join(' '),
        language: LOCAL_LANGUAGE,
        duration,
        segments,
        model: LOCAL_MODEL,
        usage: { provider: 'local', model: LOCAL_MODEL, inputTokens: 0, outputTokens: 0, audioSeconds: Math.round(duration * 1000) / 1000 },
      };
    },
  };
}

function toDecoderWav(ffmpeg: string, input: string, output: string, signal: AbortSignal): Promise<void> {
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-i', input, '-vn', '-ac', '1', '-ar', String(SAMPLE_RATE), '-c:a', 'pcm_s16le', '-f', 'wav', output];
  return new Promise((resolve, reject) => {
    execFile(ffmpeg, args, { signal, maxBuffer: 1024 * 1024 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      if (signal.aborted) return reject(err);
      reject(new ProviderError('INVALID_INPUT', `the audio could not be decoded: ${stderr.trim().split('\n').pop() ?? err.message}`));
    });
  });
}

function decoderArgs(s: LocalSpeechSettings, wav: string): string[] {
  const model = [
    ...(s.hmm ? ['-hmm', s.hmm] : []),
    ...(s.lm ? ['-lm', s.lm] : []),
    ...(s.dict ? ['-dict', s.dict] : []),
  ];
  return ['-infile', wav, '-time', 'yes', '-logfn', '/dev/null', ...model];
}

/**
 * Runs the decoder and reads its stdout line by line (line-buffered through `stdbuf`, else it
 * would come in 4 KiB blocks). Each utterance is a hypothesis line followed by its timed words,
 * from `<s>` to `</s>`.
 */
function decode(s: LocalSpeechSettings, wav: string, duration: number, signal: AbortSignal, onProgress?: (f: number) => void): Promise<TranscriptSegment[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('stdbuf', ['-oL', s.command, ...decoderArgs(s, wav)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const parser = utteranceParser();
    let stderr = '';
    let settled = false;
    const limitMs = s.timeoutMs + duration * 1000 * MAX_REAL_TIME_FACTOR;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (err) {
        child.kill('SIGKILL');
        reject(err);
      } else resolve(parser.segments());
    };
    const onAbort = () => finish(signal.reason instanceof Error ? signal.reason : new Error('transcription cancelled'));
    const timer = setTimeout(
      () => finish(new ProviderError(AI_PROVIDER_UNAVAILABLE, `the local speech engine did not finish within ${Math.round(limitMs / 1000)} s`)),
      limitMs,
    );
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) return onAbort();
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const decodedUpTo = parser.line(line);
      if (decodedUpTo !== undefined && duration > 0) onProgress?.(Math.min(decodedUpTo / duration, 0.99));
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      finish(
        err.code === 'ENOENT'
          ? new ProviderError(AI_PROVIDER_ERROR, `the local speech engine is not installed (stdbuf or ${s.command} not found)`)
          : err,
      );
    });
    child.on('close', (code) => {
      if (code === 0) return finish();
      const why = stderr.trim().split('\n').filter((l) => !l.startsWith('INFO:')).pop() ?? `exit code ${code}`;
      finish(new ProviderError(AI_PROVIDER_ERROR, `the local speech engine failed: ${why}`));
    });
  });
}

// `word(2) 1.230 1.560 0.871234`: pronunciation variants carry a (n) suffix; fillers are <...>, [...] or ++...++.
const WORD_LINE = /^(\S+) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)$/;
const FILLER = /^(<.*>|\[.*\]|\+\+.*\+\+)$/;
const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** Turns the decoder's timed word lines into segments; `line` returns the time decoded so far. */
export function utteranceParser() {
  const done: TranscriptSegment[] = [];
  let words: TranscriptWord[] = [];
  const close = () => {
    if (!words.length) return;
    const confidence = words.reduce((sum, w) => sum + (w.confidence ?? 0), 0) / words.length;
    done.push({
      id: done.length,
      start: words[0]!.start,
      end: words[words.length - 1]!.end,
      text: words.map((w) => w.word).join(' '),
      confidence: round3(confidence),
      words,
    });
    words = [];
  };
  return {
    line(raw: string): number | undefined {
      const m = WORD_LINE.exec(raw.trim());
      if (!m) return undefined;
      const [, token, start, end, posterior] = m;
      if (token === '<s>') close();
      const word = token!.replace(/\(\d+\)$/, '');
      if (!FILLER.test(word)) {
        words.push({ word, start: round3(Number(start)), end: round3(Number(end)), confidence: round3(Math.min(Math.max(Number(posterior), 0), 1)) });
      }
      if (token === '</s>') close();
      return Number(end);
    },
    segments(): TranscriptSegment[] {
      close();
      return done;
    },
  };
}
