import { open } from 'node:fs/promises';
import sharp from 'sharp';
import { ActionError } from '../actions/types.js';
import { bmpSize, isBmp } from './bmp.js';
import { createFfmpeg, type Ffmpeg } from './ffmpeg.js';
import type { Config } from '#lib/config.js';
import { ValidationError } from '#lib/errors.js';
import type { DetectedType } from './media-types.js';

export interface InspectorOptions {
  ffmpeg: Ffmpeg;
  maxResolution: number;
  maxDurationMinutes: number;
  /** Bounds each probe or measuring run. */
  timeoutMs?: number;
}

/** What the upload learned of a file, stored as the media's `metadata`. */
export type Inspection = Record<string, string | number | boolean | null>;

export type MediaInspector = (path: string, type: DetectedType) => Promise<Inspection>;

/**
 * Inspects an uploaded file before it is recorded, so that limits are met at the door rather than
 * later in a job: an image's dimensions, frames and colour space from its header; an audio file's
 * codec, channels and sample rate from ffprobe, and its duration measured by reading every packet
 * (a header's duration can lie, and VBR files without one are only estimated).
 */
export function createMediaInspector(opts: InspectorOptions): MediaInspector {
  const timeoutMs = opts.timeoutMs ?? 120_000;

  async function image(path: string): Promise<Inspection> {
    const head = Buffer.alloc(64);
    const fd = await open(path, 'r');
    try {
      await fd.read(head, 0, 64, 0);
    } finally {
      await fd.close();
    }
    let info: Inspection;
    if (isBmp(head)) {
      const { width, height } = bmpSize(head);
      info = { width, height, frames: 1, format: 'bmp', bits_per_pixel: head.readUInt16LE(28) };
    } else {
      const meta = await sharp(path, { limitInputPixels: false }).metadata().catch((err: Error) => {
        throw new ValidationError(`The image cannot be read: ${err.message}`, { field: 'file', reason: 'unreadable' });
      });
      const swapped = (meta.orientation ?? 1) >= 5;
      info = {
        width: (swapped ? meta.height : meta.width) ?? null,
        height: (swapped ? meta.width : meta.height) ?? null,
        frames: meta.pages ?? 1,
        // libvips names AVIF (AV1 in a HEIF container) heif.
        format: meta.format === 'heif' && meta.compression === 'av1' ? 'avif' : (meta.format ?? null),
        color_space: meta.space ?? null,
        channels: meta.channels ?? null,
        bit_depth: meta.depth ?? null,
        has_alpha: meta.hasAlpha ?? false,
        orientation: meta.orientation ?? 1,
      };
    }
    const width = Number(info.width);
    const height = Number(info.height);
    if (!width || !height) throw new ValidationError('The image has no dimensions', { field: 'file', reason: 'unreadable' });
    if (width > opts.maxResolution || height > opts.maxResolution) {
      throw new ValidationError(`The image is ${width}x${height} pixels, over the ${opts.maxResolution}-pixel limit (max_resolution)`, {
        field: 'file',
        limit: 'max_resolution',
        max: opts.maxResolution,
        actual: `${width}x${height}`,
      });
    }
    return info;
  }

  async function audio(path: string, type: DetectedType): Promise<Inspection> {
    const signal = AbortSignal.timeout(timeoutMs);
    const probed = await opts.ffmpeg.probe(path, { mimeType: type.mimeType, signal }).catch((err: unknown) => {
      if (err instanceof ActionError) throw new ValidationError(`The audio cannot be read: ${err.message}`, { field: 'file', reason: 'unreadable' });
      throw err;
    });
    // Copying every audio packet to nowhere reads the whole file without decoding it: the last
    // time mark is the real duration, whatever the header claims.
    const max = opts.maxDurationMinutes * 60;
    const { processedSeconds } = await opts.ffmpeg
      .run({ input: path, inputFormat: probed.container, outputOptions: ['-map', '0:a:0', '-c', 'copy', '-t', String(max + 1), '-f', 'null'], output: null, signal, timeoutMs })
      .catch((err: unknown) => {
        if (err instanceof ActionError) throw new ValidationError(`The audio cannot be read: ${err.message}`, { field: 'file', reason: 'unreadable' });
        throw err;
      });
    const duration = Math.round(processedSeconds * 1000) / 1000;
    if (duration > max) {
      throw new ValidationError(`The audio is longer than the ${opts.maxDurationMinutes}-minute limit (max_duration_minutes)`, {
        field: 'file',
        limit: 'max_duration_minutes',
        max: opts.maxDurationMinutes,
        actual: `more than ${opts.maxDurationMinutes} minutes`,
      });
    }
    if (duration <= 0) throw new ValidationError('The audio has no sound to read', { field: 'file', reason: 'unreadable' });
    return {
      duration_seconds: duration,
      container: probed.container,
      codec: probed.codec,
      channels: probed.channels,
      sample_rate: probed.sampleRate,
      bit_rate: probed.streamBitRate ?? probed.bitRate ?? null,
      has_video: probed.hasVideo ?? false,
    };
  }

  return (path, type) => (type.mediaType === 'image' ? image(path) : audio(path, type));
}

/** The inspector with the platform's limits (MAX_IMAGE_RESOLUTION, MAX_AUDIO_DURATION_MINUTES). */
export const inspectorFor = (config: Config): MediaInspector =>
  createMediaInspector({ ffmpeg: createFfmpeg(config.media.ffmpeg), maxResolution: config.media.image.maxResolution, maxDurationMinutes: config.media.audio.maxDurationMinutes });
