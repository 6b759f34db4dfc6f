import sharp, { type Sharp } from 'sharp';
import { ActionError, INVALID_INPUT, type ActionLimits } from '../types.js';

export const OUTPUT_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'gif', 'tiff'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

const MIME: Record<OutputFormat, { mimeType: string; extension: string }> = {
  jpeg: { mimeType: 'image/jpeg', extension: 'jpg' },
  png: { mimeType: 'image/png', extension: 'png' },
  webp: { mimeType: 'image/webp', extension: 'webp' },
  avif: { mimeType: 'image/avif', extension: 'avif' },
  gif: { mimeType: 'image/gif', extension: 'gif' },
  tiff: { mimeType: 'image/tiff', extension: 'tiff' },
};

/**
 * Opens an image defensively: bounded pixel count, warnings treated as errors, and a decode of
 * the header up front so a corrupt or lying file fails as bad input rather than later.
 */
export async function decodeImage(path: string, limits: ActionLimits): Promise<{ image: Sharp; format: OutputFormat }> {
  const image = sharp(path, {
    failOn: 'warning',
    limitInputPixels: limits.image.maxResolution * limits.image.maxResolution,
    animated: false,
  });
  let format: string | undefined;
  try {
    const meta = await image.metadata();
    format = meta.format;
    if (!meta.width || !meta.height) throw new Error('image has no dimensions');
    if (meta.width > limits.image.maxResolution || meta.height > limits.image.maxResolution) {
      throw new ActionError(
        INVALID_INPUT,
        `image is ${meta.width}x${meta.height}, over the ${limits.image.maxResolution}px limit`,
      );
    }
  } catch (err) {
    if (err instanceof ActionError) throw err;
    if (/pixel limit/i.test((err as Error).message)) {
      throw new ActionError(INVALID_INPUT, `image is over the ${limits.image.maxResolution}px limit`);
    }
    throw new ActionError(INVALID_INPUT, `cannot decode image: ${(err as Error).message}`);
  }
  const normalized = format === 'jpg' ? 'jpeg' : format === 'heif' ? 'avif' : format;
  const known = (OUTPUT_FORMATS as readonly string[]).includes(normalized ?? '') ? (normalized as OutputFormat) : 'png';
  // Honour EXIF orientation so width and height mean what the viewer sees.
  return { image: image.rotate(), format: known };
}

export function encodeImage(image: Sharp, format: OutputFormat, opts: { quality: number }): { mimeType: string; extension: string } {
  switch (format) {
    case 'jpeg':
      image.jpeg({ quality: opts.quality, mozjpeg: true });
      break;
    case 'webp':
      image.webp({ quality: opts.quality });
      break;
    case 'avif':
      image.avif({ quality: opts.quality });
      break;
    case 'png':
      image.png();
      break;
    case 'gif':
      image.gif();
      break;
    case 'tiff':
      image.tiff({ quality: opts.quality });
      break;
  }
  return MIME[format];
}
