import { open, readFile } from 'node:fs/promises';
import sharp, { type Metadata, type SharpOptions, type Sharp } from 'sharp';
import { ActionError, INVALID_INPUT, type ActionLimits } from '../actions/types.js';
import { BmpError, bmpSize, decodeBmp, isBmp } from './bmp.js';

export const OUTPUT_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'gif', 'tiff'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The output parameters of the actions that re-encode an image (resize, crop): format and quality. */
export const IMAGE_OUTPUT_PARAMETERS = {
  format: {
    type: 'string',
    enum: ['original', ...OUTPUT_FORMATS],
    default: 'original',
    description: 'Output format; original keeps the input format.',
  },
  quality: { type: 'integer', minimum: 1, maximum: 100, default: 80, description: 'Quality of lossy formats.' },
} as const;

/** Formats whose encoders keep every frame of an animated input. */
export const ANIMATED_FORMATS: readonly OutputFormat[] = ['gif', 'webp'];
/** Frames of an animation decoded at most; each frame also counts against the pixel limit. */
export const MAX_ANIMATION_FRAMES = 200;

const MIME: Record<OutputFormat, { mimeType: string; extension: string }> = {
  jpeg: { mimeType: 'image/jpeg', extension: 'jpg' },
  png: { mimeType: 'image/png', extension: 'png' },
  webp: { mimeType: 'image/webp', extension: 'webp' },
  avif: { mimeType: 'image/avif', extension: 'avif' },
  gif: { mimeType: 'image/gif', extension: 'gif' },
  tiff: { mimeType: 'image/tiff', extension: 'tiff' },
};

export interface DecodedImage {
  /** Auto-oriented: width and height mean what a viewer sees. */
  image: Sharp;
  /** The input's format, or png when it is one we cannot write. */
  format: OutputFormat;
  /** Header metadata of the input (stored, not oriented, dimensions). */
  meta: Metadata;
  /** Oriented dimensions of one frame. */
  width: number;
  height: number;
  /** Frames decoded: 1 unless `animated` was asked for and the input has several. */
  frames: number;
}

/**
 * Opens an image defensively: bounded pixel count and frame count, warnings treated as errors,
 * and the header read up front so a corrupt or lying file fails as bad input rather than later.
 * Errors from the pixel data itself surface when the image is rendered: use `render`.
 * `timeoutMs` and the limits' `timeoutSeconds` (the shorter) bound every render of the image (and of its clones).
 */
export async function decodeImage(
  path: string | Buffer,
  limits: Pick<ActionLimits, 'image'>,
  opts: { animated?: boolean; timeoutMs?: number } = {},
): Promise<DecodedImage> {
  const max = limits.image.maxResolution;
  const source = await openSource(path, max);
  const options = { failOn: 'warning', limitInputPixels: max * max, autoOrient: true, ...source.options } as const;
  // The header is read without the pixel limit so that an oversized image is named by its size.
  const meta = await inputStep(sharp(source.input, { ...options, limitInputPixels: false, animated: false }).metadata());
  if (!meta.width || !meta.height) throw new ActionError(INVALID_INPUT, 'cannot decode image: it has no dimensions');
  if (meta.width > max || meta.height > max) {
    throw new ActionError(INVALID_INPUT, `image is ${meta.width}x${meta.height}, over the ${max}px limit`);
  }
  const pages = meta.pages ?? 1;
  const animated = Boolean(opts.animated) && pages > 1;
  if (animated && pages > MAX_ANIMATION_FRAMES) {
    throw new ActionError(INVALID_INPUT, `animation has ${pages} frames, over the ${MAX_ANIMATION_FRAMES}-frame limit`);
  }
  if (animated && meta.width * meta.height * pages > max * max) {
    throw new ActionError(INVALID_INPUT, `animation of ${pages} frames of ${meta.width}x${meta.height} is over the pixel limit`);
  }
  const swapped = (meta.orientation ?? 1) >= 5;
  const image = sharp(source.input, { ...options, animated });
  // libvips keeps working after Temporal gives up on an attempt: stop it at the action's own deadline.
  const timeoutMs = Math.min(opts.timeoutMs ?? Infinity, limits.image.timeoutSeconds ? limits.image.timeoutSeconds * 1000 : Infinity);
  if (Number.isFinite(timeoutMs)) image.timeout({ seconds: Math.max(1, Math.floor(timeoutMs / 1000)) });
  return {
    image,
    format: normalizeFormat(meta.format),
    meta,
    width: swapped ? meta.height : meta.width,
    height: swapped ? meta.width : meta.height,
    frames: animated ? pages : 1,
  };
}

/** What sharp is given: the file (or the bytes in memory) itself, or for a BMP (no libvips loader) its decoded pixels. */
async function openSource(path: string | Buffer, max: number): Promise<{ input: string | Buffer; options: SharpOptions }> {
  let head: Buffer = Buffer.alloc(2);
  if (Buffer.isBuffer(path)) head = path.subarray(0, 2);
  else {
    const handle = await open(path, 'r');
    try {
      await handle.read(head, 0, 2, 0);
    } finally {
      await handle.close();
    }
  }
  if (!isBmp(head)) return { input: path, options: {} };
  try {
    const bytes = Buffer.isBuffer(path) ? path : await readFile(path);
    const { width, height } = bmpSize(bytes);
    if (width > max || height > max) throw new ActionError(INVALID_INPUT, `image is ${width}x${height}, over the ${max}px limit`);
    const bmp = decodeBmp(bytes);
    return { input: bmp.data, options: { raw: { width: bmp.width, height: bmp.height, channels: 4 } } };
  } catch (err) {
    if (err instanceof BmpError || err instanceof RangeError) throw new ActionError(INVALID_INPUT, `cannot decode image: ${err.message}`);
    throw err;
  }
}

/**
 * Runs a step that decodes pixels (toFile, toBuffer, stats): a failure there is the input's
 * fault (truncated data, bad chunks), so it becomes a non-retryable INVALID_INPUT. Errors with an
 * errno code (disk full, missing directory) are the machine's and stay retryable.
 */
export async function render<T>(step: Promise<T>): Promise<T> {
  return inputStep(step);
}

/** Decodes the whole image once, cheaply (JPEG shrinks on load), to prove the pixel data is intact. */
export async function assertDecodable(image: Sharp): Promise<void> {
  await render(image.clone().resize(64, 64, { fit: 'inside' }).raw().toBuffer());
}

async function inputStep<T>(step: Promise<T>): Promise<T> {
  try {
    return await step;
  } catch (err) {
    if (err instanceof ActionError || typeof (err as NodeJS.ErrnoException).code === 'string') throw err;
    // libvips names the file it failed on: the worker's temporary path is nobody's business.
    const message = String((err as Error).message ?? err).split('\n')[0]!.replace(/"?(?:\/[\w.@+-]+){2,}"?/g, 'the file').trim().slice(0, 200);
    if (/pixel limit/i.test(message)) throw new ActionError(INVALID_INPUT, 'image is over the pixel limit');
    throw new ActionError(INVALID_INPUT, `cannot decode image: ${message}`);
  }
}

function normalizeFormat(format: string | undefined): OutputFormat {
  const normalized = format === 'jpg' ? 'jpeg' : format === 'heif' ? 'avif' : format;
  return (OUTPUT_FORMATS as readonly string[]).includes(normalized ?? '') ? (normalized as OutputFormat) : 'png';
}

export interface EncodeOptions {
  quality: number;
  /** Pixels to encode (all frames), which sets the encoder's effort: see effortFor. */
  pixels?: number;
  /** WebP and AVIF only. */
  lossless?: boolean;
  /** Progressive JPEG, interlaced PNG and GIF. */
  progressive?: boolean;
}

export function encodeImage(image: Sharp, format: OutputFormat, opts: EncodeOptions): { mimeType: string; extension: string } {
  const { quality, lossless = false, progressive = false } = opts;
  const effort = effortFor(format, opts.pixels ?? 0);
  switch (format) {
    case 'jpeg':
      // JPEG has no alpha: transparent areas become white rather than black.
      // mozjpeg's settings spelled out: its preset would force progressive scans.
      image.flatten({ background: '#ffffff' }).jpeg({
        quality,
        progressive,
        optimiseScans: progressive,
        trellisQuantisation: true,
        overshootDeringing: true,
        quantisationTable: 3,
      });
      break;
    case 'webp':
      image.webp({ quality, lossless, effort });
      break;
    case 'avif':
      image.avif({ quality, lossless, effort });
      break;
    case 'png':
      image.png({ progressive, compressionLevel: pngCompression(opts.pixels ?? 0) });
      break;
    case 'gif':
      image.gif({ progressive, effort });
      break;
    case 'tiff':
      image.tiff({ quality });
      break;
  }
  return MIME[format];
}

const MP = 1_000_000;

/**
 * Encoder effort by size. The encoders' defaults are tuned for web-sized images; their cost grows
 * with pixels times effort, and AVIF's steeply (a 12 MP photo at effort 4 took minutes on a loaded
 * worker, at effort 2 seconds), so large images are encoded with less effort and stay well inside
 * the attempt's timeout; small ones keep the defaults' smaller files. Undefined: the default.
 */
export function effortFor(format: OutputFormat, pixels: number): number | undefined {
  switch (format) {
    case 'avif': // 0–9, default 4
      return pixels <= 2 * MP ? 4 : pixels <= 6 * MP ? 3 : pixels <= 16 * MP ? 2 : pixels <= 30 * MP ? 1 : 0;
    case 'webp': // 0–6, default 4
      return pixels <= 16 * MP ? 4 : pixels <= 32 * MP ? 3 : 2;
    case 'gif': // 1–10, default 7: palette search over every frame
      return pixels <= 4 * MP ? 7 : pixels <= 16 * MP ? 5 : 3;
    default:
      return undefined;
  }
}

/** zlib level of PNG output (default 6): faster deflate for the largest images. */
export function pngCompression(pixels: number): number {
  return pixels <= 16 * MP ? 6 : pixels <= 32 * MP ? 4 : 3;
}

export function mimeOf(format: OutputFormat): { mimeType: string; extension: string } {
  return MIME[format];
}
