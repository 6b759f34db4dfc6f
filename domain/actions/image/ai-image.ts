import { join } from 'node:path';
import type { ImageInput } from '#lib/ai/ports.js';
import { ActionError, INVALID_INPUT, type ActionLimits } from '../types.js';
import { decodeImage } from '../../media/sharp-io.js';

export interface PreparedImage extends ImageInput {
  /** Size of the original, as the viewer sees it (EXIF orientation applied). */
  original: { width: number; height: number };
  /** original / prepared: multiply boxes found on the prepared image by this. */
  scale: number;
}

/**
 * Decodes the input defensively (a corrupt file is bad input, found before any provider is paid)
 * and writes a PNG every provider and Tesseract read, upright, at most `maxEdge` pixels a side.
 */
export async function prepareImage(inputPath: string, workDir: string, limits: ActionLimits, maxEdge?: number): Promise<PreparedImage> {
  const { image } = await decodeImage(inputPath, limits);
  // The size as the viewer sees it: EXIF orientation applied (decodeImage rotates).
  const { autoOrient } = await image.metadata();
  const original = { width: autoOrient.width, height: autoOrient.height };
  const path = join(workDir, 'ai-input.png');
  const pipeline = maxEdge ? image.resize(maxEdge, maxEdge, { fit: 'inside', withoutEnlargement: true }) : image;
  let info;
  try {
    // Transparent text on nothing reads as nothing: flatten onto white.
    info = await pipeline.flatten({ background: '#ffffff' }).png().toFile(path);
  } catch (err) {
    throw new ActionError(INVALID_INPUT, `cannot decode image: ${(err as Error).message}`);
  }
  return { path, mimeType: 'image/png', width: info.width, height: info.height, original, scale: original.width / info.width };
}
