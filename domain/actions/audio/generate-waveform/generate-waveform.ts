import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { defineAction, INVALID_INPUT } from '../../types.js';
import type { FromSchema, ParametersSchema } from '../../from-schema.js';
import { AUDIO_RETRY, AUDIO_TIMEOUTS, openAudio, round, runOnInput } from '../audio-io.js';

const hexColor = { type: 'string', pattern: '^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$' } as const;

const parameters = {
  type: 'object',
  additionalProperties: false,
  properties: {
    width: { type: 'integer', minimum: 16, maximum: 4096, default: 1200, description: 'Image width in pixels.' },
    height: { type: 'integer', minimum: 16, maximum: 1024, default: 200, description: 'Image height in pixels.' },
    color: { ...hexColor, default: '#1e90ff', description: 'Waveform colour, #rrggbb or #rrggbbaa.' },
    background_color: { ...hexColor, default: '#ffffff', description: 'Background colour, #rrggbb or #rrggbbaa.' },
    points: { type: 'integer', minimum: 10, maximum: 5000, default: 200, description: 'Number of min/max pairs in peaks.' },
  },
} as const satisfies ParametersSchema;

export type WaveformParams = FromSchema<typeof parameters>;

export default defineAction({
  actionId: 'aud_generate_waveform',
  displayName: 'Generate waveform',
  buttonLabel: 'Waveform',
  description: 'Draws the waveform as a PNG and returns its peaks (min/max pairs) as JSON.',
  icon: 'audio-waveform',
  mediaType: 'audio',
  priceTier: 'process',
  resultType: 'file',
  outputMediaType: 'image',
  parametersSchema: parameters,
  outputSchema: {
    type: 'object',
    properties: {
      width: { type: 'integer' },
      height: { type: 'integer' },
      duration_seconds: { type: 'number' },
      points: { type: 'integer' },
      peaks: {
        type: 'array',
        description: 'Per time slice, the lowest and highest sample, from -1 to 1.',
        items: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 },
      },
    },
  },
  timeouts: AUDIO_TIMEOUTS,
  retry: AUDIO_RETRY,
  nonRetryableErrors: [INVALID_INPUT],
  async run(ctx) {
    const { params } = ctx;
    const audio = await openAudio(ctx);
    // Enough samples for min/max per point, at most ~5M (10 MB) for an hour of audio.
    const rate = Math.max(2000, Math.min(16000, Math.floor(5_000_000 / audio.durationSeconds)));
    const pcmPath = join(ctx.workDir, 'waveform.pcm');
    await runOnInput(
      ctx,
      audio,
      { outputOptions: ['-map', '0:a:0', '-ac', '1', '-ar', String(rate), '-c:a', 'pcm_s16le', '-f', 's16le'], output: pcmPath, durationSeconds: audio.durationSeconds },
      [0, 0.8],
    );
    const peaks = await computePeaks(pcmPath, params.points, ctx.signal);
    await rm(pcmPath, { force: true });
    ctx.progress(0.9);
    const path = join(ctx.workDir, 'waveform.png');
    await drawWaveform(peaks, params).toFile(path);
    return {
      type: 'file',
      path,
      mimeType: 'image/png',
      extension: 'png',
      data: {
        width: params.width,
        height: params.height,
        duration_seconds: round(audio.durationSeconds),
        points: params.points,
        peaks: peaks.map(([min, max]) => [round(min, 4), round(max, 4)]),
      },
    };
  },
});

/** Min/max of signed 16-bit mono samples in `points` equal slices of the file. */
export async function computePeaks(pcmPath: string, points: number, signal?: AbortSignal): Promise<[number, number][]> {
  // The sample count up front maps each sample to its slice in one pass.
  const samples = Math.floor((await stat(pcmPath)).size / 2);
  const stream = createReadStream(pcmPath, { signal });
  const min = new Float64Array(points).fill(Infinity);
  const max = new Float64Array(points).fill(-Infinity);
  let index = 0;
  let carry: Buffer | undefined;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
    const usable = buf.length - (buf.length % 2);
    for (let off = 0; off < usable && index < samples; off += 2, index++) {
      const v = buf.readInt16LE(off) / 32768;
      const p = Math.floor((index * points) / samples);
      if (v < min[p]!) min[p] = v;
      if (v > max[p]!) max[p] = v;
    }
    carry = usable < buf.length ? buf.subarray(usable) : undefined;
  }
  return Array.from({ length: points }, (_, p) => (min[p] === Infinity ? [0, 0] : [min[p]!, max[p]!]));
}

/** One vertical bar per pixel column, spanning the min..max of the peaks under it. */
export function drawWaveform(peaks: [number, number][], p: Pick<WaveformParams, 'width' | 'height' | 'color' | 'background_color'>) {
  const { width, height } = p;
  const fg = rgba(p.color);
  const bg = rgba(p.background_color);
  const pixels = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) bg.copy(pixels, i * 4);
  const y = (v: number) => Math.round(((1 - Math.max(-1, Math.min(1, v))) * (height - 1)) / 2);
  for (let x = 0; x < width; x++) {
    const from = Math.floor((x * peaks.length) / width);
    const to = Math.max(from + 1, Math.floor(((x + 1) * peaks.length) / width));
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = from; i < to; i++) {
      lo = Math.min(lo, peaks[i]![0]);
      hi = Math.max(hi, peaks[i]![1]);
    }
    for (let row = y(hi); row <= y(lo); row++) fg.copy(pixels, (row * width + x) * 4);
  }
  return sharp(pixels, { raw: { width, height, channels: 4 } }).png();
}

function rgba(hex: string): Buffer {
  const h = hex.slice(1);
  return Buffer.from([0, 2, 4, 6].map((i) => (i < h.length ? parseInt(h.slice(i, i + 2), 16) : 255)));
}
