import { join } from 'node:path';
import sharp from 'sharp';
import { withHeartbeat } from '../../ai-support.js';
import { ActionError, defaultRetry, defineAction, INVALID_INPUT } from '../../types.js';
import type { FromSchema, ParametersSchema } from '../../from-schema.js';
import { assertDecodable, decodeImage, encodeImage, IMAGE_OUTPUT_PARAMETERS, OUTPUT_FORMATS, render } from '../../../media/sharp-io.js';

const TIMEOUT_MS = 120_000;

const pixels = (description: string, example: number) => ({
  type: 'integer',
  minimum: 0,
  maximum: 16384,
  description,
  examples: [example],
}) as const;

const parameters = {
  type: 'object',
  additionalProperties: false,
  required: ['width', 'height'],
  properties: {
    strategy: {
      type: 'string',
      enum: ['region', 'attention', 'entropy'],
      default: 'region',
      description:
        'region cuts the rectangle at left/top. attention (faces, skin, saturated colour) and entropy (detail) ' +
        'scale the image down as little as needed and keep its most interesting width x height area.',
    },
    left: pixels('Left edge of the region, from the left of the image as displayed (EXIF orientation applied). Region only.', 0),
    top: pixels('Top edge of the region. Region only.', 0),
    width: { ...pixels('Width of the result in pixels; at most the image width.', 320), minimum: 1 },
    height: { ...pixels('Height of the result in pixels; at most the image height.', 240), minimum: 1 },
    ...IMAGE_OUTPUT_PARAMETERS,
  },
  // A region needs its corner; the smart strategies choose it and refuse one.
  if: { properties: { strategy: { const: 'region' } } },
  then: { required: ['left', 'top'] },
  else: { not: { anyOf: [{ required: ['left'] }, { required: ['top'] }] } },
} as const satisfies ParametersSchema;

export type CropParams = FromSchema<typeof parameters>;

export default defineAction({
  actionId: 'img_crop',
  displayName: 'Crop image',
  buttonLabel: 'Crop',
  description:
    'Cuts a region out of an image: either the rectangle given by left, top, width and height, ' +
    'or, with strategy attention or entropy, the most interesting width x height area.',
  icon: 'crop',
  mediaType: 'image',
  priceTier: 'modify',
  resultType: 'file',
  parametersSchema: parameters,
  outputSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['width', 'height', 'format', 'strategy'],
    properties: {
      width: { type: 'integer', description: 'Width of the result.' },
      height: { type: 'integer', description: 'Height of the result.' },
      format: { type: 'string', enum: [...OUTPUT_FORMATS] },
      strategy: { type: 'string', enum: ['region', 'attention', 'entropy'] },
      left: { type: 'integer', description: 'Left edge of the kept area, in the (scaled) image the area was cut from.' },
      top: { type: 'integer', description: 'Top edge of the kept area, in the (scaled) image the area was cut from.' },
    },
  },
  timeouts: { startToCloseMs: TIMEOUT_MS, heartbeatMs: 30_000 },
  retry: defaultRetry,
  nonRetryableErrors: [INVALID_INPUT],
  inMemoryInput: true,
  async run(ctx) {
    const { inputPath, inputBuffer, workDir, params, limits, progress } = ctx;
    const decoded = await decodeImage(inputBuffer ?? inputPath, limits, { timeoutMs: TIMEOUT_MS });
    progress(0.3);
    const { width, height, strategy } = params;
    if (width > decoded.width || height > decoded.height) {
      throw new ActionError(INVALID_INPUT, `crop of ${width}x${height} is larger than the ${decoded.width}x${decoded.height} image`);
    }
    let image = decoded.image;
    let corner = { left: params.left ?? 0, top: params.top ?? 0 };
    if (strategy === 'region') {
      if (corner.left + width > decoded.width || corner.top + height > decoded.height) {
        throw new ActionError(
          INVALID_INPUT,
          `region ${width}x${height} at (${corner.left}, ${corner.top}) reaches outside the ${decoded.width}x${decoded.height} image`,
        );
      }
      // A region near the top is written before a truncated tail would be read: check it all.
      await assertDecodable(image);
      image = image.extract({ ...corner, width, height });
    } else {
      image = image.resize({ width, height, fit: 'cover', position: sharp.strategy[strategy] });
    }
    const format = params.format === 'original' ? decoded.format : params.format;
    const { extension, mimeType } = encodeImage(image, format, { quality: params.quality, pixels: width * height });
    const path = join(workDir, `result.${extension}`);
    const info = await withHeartbeat(ctx, 0.6, () => render(image.toFile(path)));
    // sharp reports where the kept area starts as a negative offset of the scaled image.
    if (strategy !== 'region') corner = { left: Math.abs(info.cropOffsetLeft ?? 0), top: Math.abs(info.cropOffsetTop ?? 0) };
    progress(0.9);
    return { type: 'file', path, mimeType, extension, data: { width: info.width, height: info.height, format, strategy, ...corner } };
  },
});
