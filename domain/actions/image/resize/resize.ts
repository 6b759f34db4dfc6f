import { join } from 'node:path';
import { defaultRetry, defineAction, INVALID_INPUT } from '../../types.js';
import { decodeImage, encodeImage, OUTPUT_FORMATS, render, type OutputFormat } from '../../../media/sharp-io.js';

export interface ResizeParams {
  width?: number;
  height?: number;
  fit: 'cover' | 'contain' | 'fill' | 'inside' | 'outside';
  position: string;
  without_enlargement: boolean;
  format: OutputFormat | 'original';
  quality: number;
  background: string;
}

export default defineAction<ResizeParams>({
  actionId: 'img_resize',
  displayName: 'Resize image',
  buttonLabel: 'Resize',
  description: 'Changes the dimensions of an image, optionally converting its format.',
  icon: 'aspect-ratio',
  mediaType: 'image',
  category: 'modify',
  resultType: 'file',
  parametersSchema: {
    type: 'object',
    additionalProperties: false,
    anyOf: [{ required: ['width'] }, { required: ['height'] }],
    properties: {
      width: { type: 'integer', minimum: 1, maximum: 16384, description: 'Target width in pixels.', examples: [320] },
      height: { type: 'integer', minimum: 1, maximum: 16384, description: 'Target height in pixels.', examples: [240] },
      fit: {
        type: 'string',
        enum: ['cover', 'contain', 'fill', 'inside', 'outside'],
        default: 'cover',
        description: 'How the image fits both dimensions when both are given.',
      },
      position: {
        type: 'string',
        enum: ['centre', 'north', 'northeast', 'east', 'southeast', 'south', 'southwest', 'west', 'northwest', 'entropy', 'attention'],
        default: 'centre',
        description: 'Gravity used by cover and contain.',
      },
      without_enlargement: { type: 'boolean', default: false, description: 'Never make the image larger.' },
      format: {
        type: 'string',
        enum: ['original', ...OUTPUT_FORMATS],
        default: 'original',
        description: 'Output format; original keeps the input format.',
      },
      quality: { type: 'integer', minimum: 1, maximum: 100, default: 80, description: 'Quality of lossy formats.' },
      background: {
        type: 'string',
        pattern: '^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$',
        default: '#00000000',
        description: 'Fill colour for contain.',
      },
    },
  },
  outputSchema: {
    type: 'object',
    properties: {
      width: { type: 'integer' },
      height: { type: 'integer' },
      format: { type: 'string' },
    },
  },
  timeouts: { startToCloseMs: 120_000, heartbeatMs: 30_000 },
  retry: defaultRetry,
  nonRetryableErrors: [INVALID_INPUT],
  async run({ inputPath, workDir, params, limits, progress }) {
    const { image, format: inputFormat, width: inWidth, height: inHeight } = await decodeImage(inputPath, limits);
    progress(0.3);
    const format = params.format === 'original' ? inputFormat : params.format;
    const resized = image.resize({
      width: params.width,
      height: params.height,
      fit: params.fit,
      position: params.position,
      withoutEnlargement: params.without_enlargement,
      background: params.background,
    });
    const { extension, mimeType } = encodeImage(resized, format, { quality: params.quality, pixels: outputPixels(inWidth, inHeight, params) });
    const path = join(workDir, `result.${extension}`);
    const info = await render(resized.toFile(path));
    progress(0.9);
    return { type: 'file', path, mimeType, extension, data: { width: info.width, height: info.height, format } };
  },
});

/** About how many pixels the result has, for the encoder's effort: one given side scales the other. */
function outputPixels(width: number, height: number, p: ResizeParams): number {
  const w = p.width ?? Math.round((width * p.height!) / height);
  const h = p.height ?? Math.round((height * p.width!) / width);
  const enlarged = w * h;
  return p.without_enlargement ? Math.min(enlarged, width * height) : enlarged;
}
