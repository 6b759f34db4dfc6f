import { join } from 'node:path';
import type { AudioInfo, FfmpegJob } from '../../media/ffmpeg.js';
import { ActionError, INVALID_INPUT, type ActionContext, type RetryPolicy } from '../types.js';

export const AUDIO_FORMATS = ['mp3', 'wav', 'flac', 'ogg', 'opus', 'm4a', 'webm'] as const;
export type AudioFormat = (typeof AUDIO_FORMATS)[number];

export const BITRATES = ['32k', '48k', '64k', '96k', '128k', '160k', '192k', '256k', '320k'] as const;
/** Rates libopus encodes (ogg, opus and webm outputs). */
export const OPUS_SAMPLE_RATES = [8000, 12000, 16000, 24000, 48000];

interface Encoding {
  muxer: string;
  codec: string;
  extension: string;
  mimeType: string;
  lossless: boolean;
}

const ENCODINGS: Record<AudioFormat, Encoding> = {
  mp3: { muxer: 'mp3', codec: 'libmp3lame', extension: 'mp3', mimeType: 'audio/mpeg', lossless: false },
  wav: { muxer: 'wav', codec: 'pcm_s16le', extension: 'wav', mimeType: 'audio/wav', lossless: true },
  flac: { muxer: 'flac', codec: 'flac', extension: 'flac', mimeType: 'audio/flac', lossless: true },
  ogg: { muxer: 'ogg', codec: 'libopus', extension: 'ogg', mimeType: 'audio/ogg', lossless: false },
  opus: { muxer: 'ogg', codec: 'libopus', extension: 'opus', mimeType: 'audio/ogg', lossless: false },
  // ipod writes the M4A brand, so the result is recognised as audio rather than as MP4 video.
  m4a: { muxer: 'ipod', codec: 'aac', extension: 'm4a', mimeType: 'audio/mp4', lossless: false },
  webm: { muxer: 'webm', codec: 'libopus', extension: 'webm', mimeType: 'audio/webm', lossless: false },
};

/** ffmpeg work can take minutes on an hour of audio; progress heartbeats every half second. */
export const AUDIO_TIMEOUTS = { startToCloseMs: 15 * 60_000, heartbeatMs: 30_000 };
/** ffmpeg's own deadline, a little inside the activity's so the process never outlives it. */
export const FFMPEG_TIME_LIMIT_MS = AUDIO_TIMEOUTS.startToCloseMs - 30_000;
export const AUDIO_RETRY: RetryPolicy = { maximumAttempts: 3, initialIntervalMs: 1_000, backoffCoefficient: 2, maximumIntervalMs: 30_000 };

export const formatParameter = {
  type: 'string',
  enum: ['original', ...AUDIO_FORMATS],
  default: 'original',
  description: 'Output format; original keeps the input format (Ogg Vorbis becomes Ogg Opus).',
} as const;

export interface OpenedAudio extends AudioInfo {
  durationSeconds: number;
  format: AudioFormat;
  /** How far into the input ffmpeg may read: the duration plus a margin (see readLimit). */
  readSeconds: number;
}

/** Without AUDIO_DURATION_MARGIN_SECONDS in the limits (tests, tools). */
const DEFAULT_MARGIN_SECONDS = 5;

/**
 * Probes the input and enforces the configured maximum duration. The duration the upload measured
 * (every packet read) wins over the header's, which may lie; a container that states none is
 * decoded (up to just past the limit) to measure it. Every later ffmpeg run on the input reads at
 * most that duration plus a margin (`readSeconds`), however long the data would decode.
 */
export async function openAudio(ctx: Pick<ActionContext<unknown>, 'inputPath' | 'inputMimeType' | 'signal' | 'limits' | 'input' | 'ffmpeg'>): Promise<OpenedAudio> {
  const ff = ctx.ffmpeg;
  const info = await ff.probe(ctx.inputPath, { mimeType: ctx.inputMimeType, signal: ctx.signal });
  const max = ctx.limits.audio.maxDurationSeconds;
  let duration = ctx.input?.durationSeconds ?? info.durationSeconds;
  if (duration === undefined) {
    const measured = await ff.run({
      input: ctx.inputPath,
      inputFormat: info.container,
      outputOptions: ['-map', '0:a:0', '-t', String(max + 1), '-f', 'null'],
      output: null,
      signal: ctx.signal,
      timeoutMs: FFMPEG_TIME_LIMIT_MS,
    });
    duration = measured.processedSeconds;
  }
  if (duration > max) {
    throw new ActionError(INVALID_INPUT, `the audio is ${formatMinutes(duration)} long, over the ${formatMinutes(max)} limit`);
  }
  if (duration <= 0) throw new ActionError(INVALID_INPUT, 'the audio is empty');
  const readSeconds = duration + (ctx.limits.audio.durationMarginSeconds ?? DEFAULT_MARGIN_SECONDS);
  return { ...info, durationSeconds: duration, format: formatOf(info), readSeconds };
}

/** ffmpeg input options that stop reading the input after `readSeconds` (after any seek). */
export const readLimit = (audio: Pick<OpenedAudio, 'readSeconds'>): string[] => ['-t', String(Math.ceil(audio.readSeconds * 1000) / 1000)];

/** The output format closest to the input's container. */
export function formatOf(info: AudioInfo): AudioFormat {
  if (info.container.startsWith('mov')) return 'm4a';
  if (info.container.startsWith('matroska')) return 'webm';
  if (info.container === 'ogg') return 'ogg';
  return (AUDIO_FORMATS as readonly string[]).includes(info.container) ? (info.container as AudioFormat) : 'wav';
}

export interface EncodeOptions {
  bitrate?: string;
  sampleRate?: number;
  channels?: number;
  /** The input, when the output keeps its format: its PCM sample format and bit rate are kept. */
  like?: AudioInfo;
  /** The input, whatever the output: a WAV keeps the precision of a lossless input. */
  source?: AudioInfo;
}

/** Output options that encode the first audio stream to `format`, plus where the file goes. */
export function encodeTo(format: AudioFormat, workDir: string, opts: EncodeOptions = {}) {
  const enc = ENCODINGS[format];
  const codec = format === 'wav' ? wavCodecFor(opts.like ?? opts.source) : enc.codec;
  const bitrate = opts.bitrate ?? (opts.like?.streamBitRate ? keepBitrate(opts.like.streamBitRate) : '192k');
  const sampleRate = opts.sampleRate && enc.codec === 'libopus' && !OPUS_SAMPLE_RATES.includes(opts.sampleRate) ? 48000 : opts.sampleRate;
  const outputOptions = [
    '-map', '0:a:0', '-vn', '-sn', '-dn',
    '-c:a', codec,
    ...(enc.lossless ? [] : ['-b:a', bitrate]),
    ...(sampleRate ? ['-ar', String(sampleRate)] : []),
    ...(opts.channels ? ['-ac', String(opts.channels)] : []),
    ...(enc.muxer === 'ipod' ? ['-movflags', '+faststart'] : []),
    '-f', enc.muxer,
  ];
  return { outputOptions, path: join(workDir, `result.${enc.extension}`), mimeType: enc.mimeType, extension: enc.extension };
}

// Codecs whose samples are exact: their bit depth means something and a WAV keeps it.
const LOSSLESS_CODECS = /^(pcm_|flac$|alac$|wavpack$|tta$|ape$|mlp$|truehd$)/;

/**
 * The PCM codec of a WAV made from `input`: 24-bit, 32-bit and floating-point lossless input keep
 * their precision; lossy input (decoded to float by its decoder, with no real bit depth) and
 * 16-bit input are written as 16-bit.
 */
export function wavCodecFor(input: AudioInfo | undefined): string {
  if (!input || !LOSSLESS_CODECS.test(input.codec)) return 'pcm_s16le';
  const fmt = input.sampleFormat ?? '';
  if (fmt.startsWith('flt')) return 'pcm_f32le';
  if (fmt.startsWith('dbl')) return 'pcm_f64le';
  if (fmt.startsWith('s32') || fmt.startsWith('s64')) {
    const bits = input.bitsPerSample ?? 32;
    return bits <= 16 ? 'pcm_s16le' : bits <= 24 ? 'pcm_s24le' : 'pcm_s32le';
  }
  return 'pcm_s16le';
}

/** Runs ffmpeg on the action's input with its signal, deadline and progress (mapped into [from, to]). */
export function runOnInput(
  ctx: ActionContext<unknown>,
  audio: OpenedAudio,
  job: Omit<FfmpegJob, 'input' | 'inputFormat' | 'signal' | 'timeoutMs' | 'onProgress'>,
  range: [number, number] = [0, 1],
) {
  return ctx.ffmpeg.run({
    ...job,
    input: ctx.inputPath,
    inputFormat: audio.container,
    inputOptions: [...(job.inputOptions ?? []), ...readLimit(audio)],
    signal: ctx.signal,
    timeoutMs: FFMPEG_TIME_LIMIT_MS,
    onProgress: (f) => ctx.progress(range[0] + (range[1] - range[0]) * f),
  });
}

/**
 * The measuring filters: EBU R128 (integrated loudness, loudness range, true peak) and the overall
 * RMS level, which stands in for loudness on clips shorter than the 400 ms that R128's integrated
 * measure needs. ebur128 measures at the input rate (true peak oversampled), so it runs in a
 * fraction of loudnorm's time, which resamples everything to 192 kHz.
 */
export const MEASURE_FILTERS = 'ebur128=peak=true:framelog=verbose,astats=measure_perchannel=none:measure_overall=RMS_level';

export interface Measurement {
  /** Integrated loudness in LUFS; null for silence and for clips too short to be gated. */
  integratedLufs: number | null;
  /** The integrated measure's relative gate, LUFS (what loudnorm calls input_thresh). */
  thresholdLufs: number | null;
  truePeakDbtp: number | null;
  loudnessRangeLu: number | null;
  /** Overall RMS level, dBFS; null for digital silence. */
  rmsDbfs: number | null;
}

/** Collects what MEASURE_FILTERS print at the end of a run; pass `collect` as onStderr, then call `result()`. */
export function measurementCollector() {
  const summary: string[] = [];
  const stats: string[] = [];
  let inSummary = false;
  return {
    collect(line: string) {
      // The filters print when the graph closes, in either order: ebur128 a block, astats one line per value.
      if (/Parsed_astats_\d+/.test(line)) {
        inSummary = false;
        stats.push(line);
      } else if (/Parsed_ebur128_\d+ @ \S+\] Summary/.test(line)) {
        inSummary = true;
        summary.length = 0;
      } else if (inSummary) summary.push(line);
    },
    result(): Measurement {
      const text = [...summary, ...stats].join('\n');
      const value = (re: RegExp) => {
        const m = re.exec(text);
        if (!m) return null;
        const n = Number(m[1]);
        return Number.isFinite(n) ? n : null;
      };
      if (!/Integrated loudness/.test(text)) throw new Error('ffmpeg ebur128 printed no measurement');
      const integrated = value(/Integrated loudness:\s*I:\s*(-?[\d.]+|-?inf) LUFS/);
      const threshold = value(/Integrated loudness:\s*I:[^\n]*\n\s*Threshold:\s*(-?[\d.]+) LUFS/);
      const peak = value(/True peak:\s*Peak:\s*(-?[\d.]+|-?inf) dBFS/);
      const rms = value(/RMS level dB: (-?[\d.]+|-?inf)/);
      // No block passed the gates (threshold left at 0): silence, or shorter than one 400 ms block.
      const gated = integrated !== null && threshold !== null && threshold < 0;
      return {
        integratedLufs: gated && peak !== null ? integrated : null,
        thresholdLufs: gated ? threshold : null,
        truePeakDbtp: peak,
        loudnessRangeLu: value(/Loudness range:\s*LRA:\s*(-?[\d.]+) LU/),
        rmsDbfs: peak === null ? null : rms,
      };
    },
  };
}

/**
 * The loudness of a measured input, in LUFS: the integrated measure, or for a clip too short for
 * it, an estimate from its RMS level (R128's offset and its sum over channels, without the
 * K-weighting). Null only for silence.
 */
export function loudnessOf(m: Measurement, channels: number): { lufs: number; method: 'ebu_r128' | 'rms' } | null {
  if (m.integratedLufs !== null) return { lufs: m.integratedLufs, method: 'ebu_r128' };
  if (m.rmsDbfs === null) return null;
  return { lufs: round(m.rmsDbfs - 0.691 + 10 * Math.log10(Math.max(1, channels)), 1), method: 'rms' };
}

/** Loudness statistics printed by ffmpeg's loudnorm filter (print_format=json) at the end of a run. */
export interface Loudness {
  output_i: number | null;
  output_tp: number | null;
}

/** Collects the JSON block loudnorm prints; pass `collect` as onStderr and call `result()` after the run. */
export function loudnormCollector() {
  const lines: string[] = [];
  let inBlock = false;
  return {
    collect(line: string) {
      // The JSON follows the filter's last log line.
      if (/Parsed_loudnorm/.test(line)) {
        inBlock = true;
        lines.length = 0;
      }
      else if (inBlock) lines.push(line);
    },
    result(): Loudness {
      const text = lines.join('\n');
      const json = text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1);
      let raw: Record<string, string> = {};
      try {
        raw = JSON.parse(json) as Record<string, string>;
      } catch {
        throw new Error('ffmpeg loudnorm printed no measurement');
      }
      const n = (k: string) => (Number.isFinite(Number(raw[k])) ? Number(raw[k]) : null);
      return { output_i: n('output_i'), output_tp: n('output_tp') };
    },
  };
}

function keepBitrate(bitsPerSecond: number): string {
  return `${Math.min(320, Math.max(32, Math.round(bitsPerSecond / 1000)))}k`;
}

function formatMinutes(seconds: number): string {
  return seconds < 120 ? `${Math.round(seconds)} seconds` : `${Math.round((seconds / 60) * 10) / 10} minutes`;
}

export const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;
