import { execFile, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, rm } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import createCommand from 'fluent-ffmpeg';
import { ActionError, INVALID_INPUT } from '../actions/types.js';

/** What the audio actions need to know about an input, from ffprobe. */
export interface AudioInfo {
  /** ffprobe's format_name, also the demuxer name used to read the file again. */
  container: string;
  /** Undefined when the container does not say (e.g. a browser-recorded WebM). */
  durationSeconds?: number;
  /** Overall bit rate, bits per second. */
  bitRate?: number;
  codec: string;
  /** Bit rate of the audio stream, bits per second. */
  streamBitRate?: number;
  sampleRate: number;
  channels: number;
  channelLayout?: string;
  /** The decoder's sample format (s16, s32, flt, fltp, …). */
  sampleFormat?: string;
  /** Significant bits per sample of a lossless stream (24 for 24-bit PCM or FLAC), when stated. */
  bitsPerSample?: number;
  /** A moving-picture stream besides the sound (the file is a video read for its audio). */
  hasVideo?: boolean;
}

export interface FfmpegJob {
  input: string;
  /** Demuxer to force, normally `AudioInfo.container`. */
  inputFormat?: string;
  inputOptions?: string[];
  outputOptions: string[];
  /** Output file, or null to discard the output (runs that only measure, with `-f null`). */
  output: string | null;
  /**
   * Seconds of media the run should produce: turns ffmpeg's time mark into a 0–1 fraction, and a run
   * that decodes far less than this fails as bad input (a damaged or truncated file).
   */
  durationSeconds?: number;
  onProgress?(fraction: number): void;
  /** Every line ffmpeg writes to stderr except its periodic statistics. */
  onStderr?(line: string): void;
  onStart?(pid: number): void;
  signal?: AbortSignal;
  /** ffmpeg is killed after this long, and the run fails with a TIMEOUT error. */
  timeoutMs?: number;
}

export interface Ffmpeg {
  probe(path: string, opts?: { mimeType?: string; signal?: AbortSignal }): Promise<AudioInfo>;
  /** Runs ffmpeg; resolves with the last time mark reached, in seconds. */
  run(job: FfmpegJob): Promise<{ processedSeconds: number }>;
}

export interface FfmpegOptions {
  /** A path, or a name looked up in `searchPath` (FFMPEG_PATH, FFPROBE_PATH; default ffmpeg, ffprobe). */
  ffmpegPath: string;
  ffprobePath: string;
  /** The directories (the environment's PATH) a name without a slash is looked up in. */
  searchPath: string;
  /** How long ffmpeg gets to exit after SIGTERM before SIGKILL. */
  killGraceMs?: number;
  probeTimeoutMs?: number;
}

/** The only run-time failure that retrying can help: a deadline, not the input. */
export const TIMEOUT = 'TIMEOUT';

// Bounds on how much ffprobe reads to identify a stream: enough for any audio container we accept.
const PROBE_SIZE_BYTES = 5_000_000;
const ANALYZE_DURATION_US = 10_000_000;
// Local files only: no network protocols, no concat/subfile tricks reaching other files.
const PROTOCOLS = ['-protocol_whitelist', 'file,pipe'];

// The demuxers we read, keyed by the MIME type the upload detected; anything else is refused.
const DEMUXERS: Record<string, string> = {
  'audio/mpeg': 'mp3',
  'audio/wav': 'wav',
  'audio/flac': 'flac',
  'audio/ogg': 'ogg',
  'audio/mp4': 'mov,mp4,m4a,3gp,3g2,mj2',
  'audio/webm': 'matroska,webm',
  // Video containers, read for their sound.
  'video/mp4': 'mov,mp4,m4a,3gp,3g2,mj2',
  'video/quicktime': 'mov,mp4,m4a,3gp,3g2,mj2',
  'video/3gpp': 'mov,mp4,m4a,3gp,3g2,mj2',
  'video/x-matroska': 'matroska,webm',
};
const ALLOWED_DEMUXERS = new Set(Object.values(DEMUXERS));

// Failures of the machine rather than of the file.
const INFRASTRUCTURE = /No space left on device|Cannot allocate memory|Too many open files|Resource temporarily unavailable/i;

/**
 * ffmpeg and ffprobe as configured (config.media.ffmpeg). The worker builds one and hands it to the
 * actions in their context (ActionContext.ffmpeg), the API one for inspecting uploads.
 */
export function createFfmpeg(opts: FfmpegOptions): Ffmpeg {
  const { ffmpegPath, ffprobePath, searchPath } = opts;
  const killGraceMs = opts.killGraceMs ?? 2_000;
  const probeTimeoutMs = opts.probeTimeoutMs ?? 30_000;

  // ffprobe is run directly rather than through fluent-ffmpeg, whose ffprobe can be neither
  // timed out nor cancelled.
  async function probe(path: string, { mimeType, signal }: { mimeType?: string; signal?: AbortSignal } = {}): Promise<AudioInfo> {
    const forced = mimeType ? DEMUXERS[mimeType] : undefined;
    const args = [
      '-v', 'error', '-hide_banner', ...PROTOCOLS,
      '-probesize', String(PROBE_SIZE_BYTES), '-analyzeduration', String(ANALYZE_DURATION_US),
      ...(forced ? ['-f', forced] : []),
      '-show_format', '-show_streams', '-of', 'json', path,
    ];
    const binary = await resolveBinary(ffprobePath, searchPath);
    if (!binary) throw new Error(`ffprobe is not installed (looked for ${ffprobePath})`);
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(binary, args, { timeout: probeTimeoutMs, killSignal: 'SIGKILL', signal, maxBuffer: 4 * 1024 * 1024 }, (err, out, stderr) => {
        if (!err) return resolve(out);
        if (signal?.aborted) return reject(signal.reason);
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new Error(`ffprobe is not installed (looked for ${ffprobePath})`));
        if ((err as { killed?: boolean }).killed) return reject(new ActionError(TIMEOUT, `ffprobe did not finish within ${probeTimeoutMs} ms`));
        if (INFRASTRUCTURE.test(stderr)) return reject(new Error(`ffprobe failed: ${lastLines(stderr, path)}`));
        reject(new ActionError(INVALID_INPUT, `cannot read the audio: ${lastLines(stderr, path) || 'unrecognised data'}`));
      });
    });
    return parseProbe(stdout);
  }

  async function run(job: FfmpegJob): Promise<{ processedSeconds: number }> {
    const { signal } = job;
    if (signal?.aborted) throw signal.reason;
    // fluent-ffmpeg throws from an event handler on a spawn error (ENOENT) instead of reporting it,
    // which would take the worker down: the binary is checked before every run.
    const binary = await resolveBinary(ffmpegPath, searchPath);
    if (!binary) throw new Error(`ffmpeg is not installed (looked for ${ffmpegPath})`);
    return new Promise((resolve, reject) => {
      const tail: string[] = [];
      let processedSeconds = 0;
      let proc: ChildProcess | undefined;
      let stopReason: unknown;
      let killTimer: NodeJS.Timeout | undefined;

      const command = createCommand({ stdoutLines: 1 })
        .setFfmpegPath(binary)
        .input(job.input)
        // One name of a demuxer's list ("mov,mp4,m4a,…" → "mov"): what fluent-ffmpeg's format check knows.
        .inputOptions([...PROTOCOLS, ...(job.inputFormat ? ['-f', job.inputFormat.split(',')[0]!] : []), ...(job.inputOptions ?? [])])
        .outputOptions(['-nostdin', '-hide_banner', ...job.outputOptions])
        .output(job.output ?? '-');

      const stop = (reason: unknown) => {
        if (stopReason !== undefined) return;
        stopReason = reason;
        if (proc) terminate();
      };
      // SIGTERM lets ffmpeg close its files; a process that ignores it is killed outright.
      const terminate = () => {
        proc?.kill('SIGTERM');
        killTimer = setTimeout(() => proc?.kill('SIGKILL'), killGraceMs);
      };
      const onAbort = () => stop(signal!.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      const deadline = job.timeoutMs
        ? setTimeout(() => stop(new ActionError(TIMEOUT, `ffmpeg did not finish within ${job.timeoutMs} ms`)), job.timeoutMs)
        : undefined;

      const settle = async (err: Error | undefined) => {
        clearTimeout(killTimer);
        clearTimeout(deadline);
        signal?.removeEventListener('abort', onAbort);
        const failure = stopReason ?? (err ? classify(err, tail, job.input) : checkDecoded(job, processedSeconds, tail));
        if (failure === undefined) return resolve({ processedSeconds });
        if (job.output) await rm(job.output, { force: true }).catch(() => undefined);
        reject(failure);
      };

      command
        .on('start', () => {
          proc = (command as unknown as { ffmpegProc?: ChildProcess }).ffmpegProc;
          if (proc?.pid !== undefined) job.onStart?.(proc.pid);
          if (stopReason !== undefined) terminate();
        })
        .on('progress', (p: { timemark?: string }) => {
          const seconds = timemarkSeconds(p.timemark);
          if (seconds === undefined) return;
          processedSeconds = seconds;
          if (job.onProgress && job.durationSeconds && job.durationSeconds > 0) {
            job.onProgress(Math.min(1, seconds / job.durationSeconds));
          }
        })
        .on('stderr', (line: string) => {
          if (/^\s*(size|frame)=/.test(line) || !line.trim()) return;
          tail.push(line);
          if (tail.length > 20) tail.shift();
          job.onStderr?.(line);
        })
        .on('end', () => void settle(undefined))
        .on('error', (err: Error) => void settle(err));
      command.run();
    });
  }

  return { probe, run };
}

/** An executable file: the path itself when it has a slash, else the first match in `searchPath`. */
async function resolveBinary(name: string, searchPath: string): Promise<string | undefined> {
  const candidates = name.includes('/') ? [name] : searchPath.split(delimiter).filter(Boolean).map((d) => join(d, name));
  for (const candidate of candidates) {
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  return undefined;
}

function checkDecoded(job: FfmpegJob, processed: number, tail: string[]): ActionError | undefined {
  if (tail.some((l) => l.includes('Output file is empty'))) return new ActionError(INVALID_INPUT, 'no audio could be decoded: the file is damaged');
  const expected = job.durationSeconds;
  if (expected !== undefined && processed < expected * 0.5 - 0.1) {
    return new ActionError(INVALID_INPUT, `only ${processed.toFixed(1)} of ${expected.toFixed(1)} seconds could be decoded: the file is damaged or truncated`);
  }
  return undefined;
}

function classify(err: Error, tail: string[], input: string): Error {
  const message = err.message;
  if (/ENOENT|Cannot find ffmpeg/.test(message)) return new Error(`ffmpeg is not installed: ${message}`);
  if (/killed with signal/.test(message)) return new Error(`ffmpeg was killed: ${message}`);
  const detail = lastLines(tail.join('\n'), input);
  if (INFRASTRUCTURE.test(detail)) return new Error(`ffmpeg failed: ${detail}`);
  if (/exited with code/.test(message)) return new ActionError(INVALID_INPUT, `ffmpeg could not process the audio: ${detail || message}`);
  return err;
}

function parseProbe(stdout: string): AudioInfo {
  const data = JSON.parse(stdout) as {
    format?: { format_name?: string; duration?: string; bit_rate?: string };
    streams?: { codec_type?: string; disposition?: { attached_pic?: number }; codec_name?: string; sample_rate?: string; channels?: number; channel_layout?: string; bit_rate?: string; duration?: string; sample_fmt?: string; bits_per_raw_sample?: string; bits_per_sample?: number }[];
  };
  const container = data.format?.format_name ?? '';
  if (!ALLOWED_DEMUXERS.has(container)) throw new ActionError(INVALID_INPUT, `unsupported audio container "${container || 'unknown'}"`);
  const stream = data.streams?.find((s) => s.codec_type === 'audio');
  if (!stream?.codec_name) throw new ActionError(INVALID_INPUT, 'the file has no audio stream');
  const sampleRate = num(stream.sample_rate);
  const channels = stream.channels;
  if (!sampleRate || !channels) throw new ActionError(INVALID_INPUT, 'the audio stream has no sample rate or channels');
  const duration = num(data.format?.duration) ?? num(stream.duration);
  return {
    container,
    durationSeconds: duration !== undefined && duration > 0 ? duration : undefined,
    bitRate: num(data.format?.bit_rate),
    codec: stream.codec_name,
    streamBitRate: num(stream.bit_rate),
    sampleRate,
    channels,
    channelLayout: stream.channel_layout,
    sampleFormat: stream.sample_fmt,
    bitsPerSample: num(stream.bits_per_raw_sample) || stream.bits_per_sample || undefined,
    // Cover art is a video stream too, but marked as an attached picture.
    hasVideo: (data.streams ?? []).some((s) => s.codec_type === 'video' && !s.disposition?.attached_pic),
  };
}

function num(v: string | undefined): number | undefined {
  const n = v === undefined ? NaN : Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function timemarkSeconds(mark: string | undefined): number | undefined {
  const m = mark && /^(-?)(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(mark);
  if (!m || m[1]) return undefined;
  return Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

/** The last few meaningful lines of ffmpeg's stderr, without our temporary paths. */
function lastLines(stderr: string, path: string): string {
  return stderr
    .split(/\r?\n/)
    .map((l) => l.split(path).join('input').trim())
    .filter(Boolean)
    .slice(-3)
    .join('; ')
    .slice(0, 500);
}
