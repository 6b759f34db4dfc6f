import { join } from 'node:path';
import { ActionError, defaultRetry, defineAction, INVALID_INPUT } from '../../types.js';
import type { FromSchema, ParametersSchema } from '../../from-schema.js';
import { decodeImage, encodeImage, IMAGE_OUTPUT_PARAMETERS, render } from '../../../media/sharp-io.js';

const parameters = {
  type: 'object',
  additionalProperties: false,
  anyOf: [{ required: ['width'] }, { required: ['height'] }],
  properties: {
    width: { type: 'integer', minimum: 1, maximum: 16384, description: 'Target width in pixels; neither side of the result may exceed the platform\'s max_resolution (GET /supported-formats).', examples: [320] },
    height: { type: 'integer', minimum: 1, maximum: 16384, description: 'Target height in pixels; neither side of the result may exceed the platform\'s max_resolution (GET /supported-formats).', examples: [240] },
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
    ...IMAGE_OUTPUT_PARAMETERS,
    background: {
      type: 'string',
      pattern: '^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$',
      default: '#00000000',
      description: 'Fill colour for contain.',
    },
  },
} as const satisfies ParametersSchema;

export type ResizeParams = FromSchema<typeof parameters>;

export default defineAction({
  actionId: 'img_resize',
  displayName: 'Resize image',
  buttonLabel: 'Resize',
  description: 'Changes the dimensions of an image, optionally converting its format.',
  icon: 'aspect-ratio',
  mediaType: 'image',
  priceTier: 'modify',
  resultType: 'file',
  parametersSchema: parameters,
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
  /** Refused at submission: a side over the platform's limit, or (input known) an output that would have one. */
  checkLimits(params, limits, input) {
    const max = limits.image.maxResolution;
    const problems: Record<string, string> = {};
    for (const side of ['width', 'height'] as const) if ((params[side] ?? 0) > max) problems[side] = `must be at most ${max} (max_resolution)`;
    if (!Object.keys(problems).length && input?.width && input.height) {
      const out = outputSize(input.width, input.height, params);
      if (out.width > max || out.height > max) problems[params.width ? 'width' : 'height'] = `gives a ${out.width}x${out.height} image for this ${input.width}x${input.height} input, over the ${max}-pixel limit (max_resolution)`;
    }
    return problems;
  },
  inMemoryInput: true,
  async run({ inputPath, inputBuffer, workDir, params, limits, progress }) {
    const { image, format: inputFormat, width: inWidth, height: inHeight } = await decodeImage(inputBuffer ?? inputPath, limits);
    // One side given scales the other: a thin input could ask for a huge output.
    const size = outputSize(inWidth, inHeight, params);
    const max = limits.image.maxResolution;
    if (size.width > max || size.height > max) {
      throw new ActionError(INVALID_INPUT, `the result would be ${size.width}x${size.height}, over the ${max}px limit`);
    }
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
    const { extension, mimeType } = encodeImage(resized, format, { quality: params.quality, pixels: size.width * size.height });
    const path = join(workDir, `result.${extension}`);
    const info = await render(resized.toFile(path));
    progress(0.9);
    return { type: 'file', path, mimeType, extension, data: { width: info.width, height: info.height, format } };
  },
});

/**
 * The result's size, as sharp's resize computes it: one given side scales the other; with both,
 * inside and outside keep the aspect ratio (the smaller or larger scale), the other fits give both.
 * Without enlargement, never larger than the input.
 */
export function outputSize(width: number, height: number, p: Pick<ResizeParams, 'width' | 'height' | 'fit' | 'without_enlargement'>): { width: number; height: number } {
  let scaled: { width: number; height: number };
  if (p.width && p.height) {
    if (p.fit === 'inside' || p.fit === 'outside') {
      const scale = (p.fit === 'inside' ? Math.min : Math.max)(p.width / width, p.height / height);
      scaled = { width: Math.round(width * scale), height: Math.round(height * scale) };
    } else scaled = { width: p.width, height: p.height };
  } else if (p.width) scaled = { width: p.width, height: Math.max(1, Math.round((height * p.width) / width)) };
  else scaled = { width: Math.max(1, Math.round((width * p.height!) / height)), height: p.height! };
  if (!p.without_enlargement) return scaled;
  return { width: Math.min(scaled.width, width), height: Math.min(scaled.height, height) };
}
