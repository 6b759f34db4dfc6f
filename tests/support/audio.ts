// Audio fixtures made with ffmpeg itself (lavfi sources), independent measurements of results
// (ffprobe, ebur128, volumedetect). The actions run through tests/support/action-run.ts.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export { MIME_TYPES } from './action-run.js';

const ENCODERS: Record<string, string[]> = {
  mp3: ['-c:a', 'libmp3lame', '-b:a', '128k'],
  wav: ['-c:a', 'pcm_s16le'],
  flac: ['-c:a', 'flac'],
  ogg: ['-c:a', 'libopus', '-b:a', '96k'],
  m4a: ['-c:a', 'aac', '-b:a', '128k', '-f', 'ipod'],
  webm: ['-c:a', 'libopus', '-b:a', '96k', '-f', 'webm'],
};

/** A lavfi source: `sine=frequency=440:duration=5`, `anoisesrc=d=3:a=0.3`, `anullsrc=r=44100:cl=mono:d=2`. */
export type Source = string;

/**
 * Writes `sources` (concatenated in order) to `path`, encoded for its extension. Sources are mono
 * 44.1 kHz unless `channels`/`rate` say otherwise.
 */
export async function makeAudio(
  path: string,
  sources: Source[],
  opts: { rate?: number; channels?: number; extra?: string[] } = {},
): Promise<string> {
  const ext = path.slice(path.lastIndexOf('.') + 1);
  const rate = opts.rate ?? (/^(ogg|opus|webm)$/.test(ext) ? 48000 : 44100);
  const inputs = sources.flatMap((s) => ['-f', 'lavfi', '-i', s]);
  const labels = sources.map((_, i) => `[${i}:a]aresample=${rate},aformat=channel_layouts=mono[s${i}]`).join(';');
  const concat = `${labels};${sources.map((_, i) => `[s${i}]`).join('')}concat=n=${sources.length}:v=0:a=1[a]`;
  await exec('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y', ...inputs,
    '-filter_complex', concat, '-map', '[a]',
    '-ac', String(opts.channels ?? 1), '-ar', String(rate),
    ...ENCODERS[ext]!, ...(opts.extra ?? []), path,
  ]);
  return path;
}

export const tone = (seconds: number, frequency = 440) => `sine=frequency=${frequency}:duration=${seconds}`;
export const silence = (seconds: number) => `anullsrc=r=44100:cl=mono:d=${seconds}`;
export const noise = (seconds: number, amplitude = 0.3) => `anoisesrc=d=${seconds}:a=${amplitude}:c=pink`;

export interface Probed {
  format: { format_name: string; duration: number; bit_rate: number };
  stream: { codec_name: string; sample_rate: number; channels: number; bit_rate?: number };
}

/** ffprobe, called directly so tests do not measure results with the code under test. */
export async function probe(path: string): Promise<Probed> {
  const { stdout } = await exec('ffprobe', ['-v', 'error', '-show_format', '-show_streams', '-of', 'json', path]);
  const data = JSON.parse(stdout) as { format: Record<string, string>; streams: Record<string, string | number>[] };
  const s = data.streams.find((x) => x.codec_type === 'audio')!;
  return {
    format: { format_name: data.format.format_name!, duration: Number(data.format.duration), bit_rate: Number(data.format.bit_rate) },
    stream: {
      codec_name: String(s.codec_name),
      sample_rate: Number(s.sample_rate),
      channels: Number(s.channels),
      bit_rate: s.bit_rate === undefined ? undefined : Number(s.bit_rate),
    },
  };
}

/** Integrated loudness (LUFS) and true peak (dBTP) by ffmpeg's ebur128 filter. */
export async function loudness(path: string): Promise<{ integrated: number; truePeak: number }> {
  const { stderr } = await exec('ffmpeg', ['-hide_banner', '-nostats', '-i', path, '-af', 'ebur128=peak=true:framelog=verbose', '-f', 'null', '-']);
  const summary = stderr.slice(stderr.lastIndexOf('Summary:'));
  return {
    integrated: Number(/I:\s+(-?[\d.]+) LUFS/.exec(summary)![1]),
    truePeak: Number(/Peak:\s+(-?[\d.]+|-inf) dBFS/.exec(summary)![1]),
  };
}

/** The highest sample level (dBFS) between `start` and `start + duration` seconds. */
export async function maxVolume(path: string, start = 0, duration?: number): Promise<number> {
  const { stderr } = await exec('ffmpeg', [
    '-hide_banner', '-nostats', '-ss', String(start), ...(duration ? ['-t', String(duration)] : []),
    '-i', path, '-af', 'volumedetect', '-f', 'null', '-',
  ]);
  const m = /max_volume: (-?[\d.]+|-inf) dB/.exec(stderr);
  return m![1] === '-inf' ? -Infinity : Number(m![1]);
}

/** Child processes of this process running `name`, by pid. */
export async function childProcesses(name: string): Promise<number[]> {
  try {
    const { stdout } = await exec('pgrep', ['-P', String(process.pid), '-x', name]);
    return stdout.split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}
