import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { withHeartbeat } from '../../ai-support.js';
import { defaultRetry, defineAction, INVALID_INPUT } from '../../types.js';
import type { FromSchema, ParametersSchema } from '../../from-schema.js';
import { ANIMATED_FORMATS, decodeImage, effortFor, encodeImage, OUTPUT_FORMATS, render } from '../../../media/sharp-io.js';

const TIMEOUT_MS = 180_000;

const parameters = {
  type: 'object',
  additionalProperties: false,
  required: ['format'],
  properties: {
    format: { type: 'string', enum: [...OUTPUT_FORMATS], description: 'Target format.', examples: ['webp'] },
    quality: { type: 'integer', minimum: 1, maximum: 100, default: 80, description: 'Quality of lossy formats (JPEG, WebP, AVIF, TIFF).' },
    lossless: { type: 'boolean', default: false, description: 'Lossless compression; WebP and AVIF only.' },
    progressive: { type: 'boolean', default: false, description: 'Progressive JPEG, or interlaced PNG or GIF.' },
    keep_metadata: {
      type: 'boolean',
      default: false,
      description: 'Keep EXIF, ICC profile, XMP and IPTC metadata. By default it is stripped (GPS position included).',
    },
  },
  // Options that only some encoders have are refused elsewhere rather than silently ignored.
  allOf: [
    {
      if: { properties: { lossless: { const: true } }, required: ['lossless'] },
      then: { properties: { format: { enum: ['webp', 'avif'] } } },
    },
    {
      if: { properties: { progressive: { const: true } }, required: ['progressive'] },
      then: { properties: { format: { enum: ['jpeg', 'png', 'gif'] } } },
    },
  ],
} as const satisfies ParametersSchema;

export type FormatConvertParams = FromSchema<typeof parameters>;

export default defineAction({
  actionId: 'img_format_convert',
  displayName: 'Convert image format',
  buttonLabel: 'Convert',
  description:
    'Re-encodes an image as JPEG, PNG, WebP, AVIF, GIF or TIFF. Metadata is stripped unless asked for; ' +
    'animations stay animated when converted to GIF or WebP (other formats keep the first frame).',
  icon: 'file-image',
  mediaType: 'image',
  priceTier: 'modify',
  resultType: 'file',
  parametersSchema: parameters,
  outputSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['format', 'width', 'height', 'frames', 'size_bytes', 'metadata_kept'],
    properties: {
      format: { type: 'string', enum: [...OUTPUT_FORMATS] },
      width: { type: 'integer' },
      height: { type: 'integer', description: 'Height of one frame.' },
      frames: { type: 'integer', minimum: 1 },
      size_bytes: { type: 'integer', minimum: 0 },
      metadata_kept: { type: 'boolean' },
      effort: { type: 'integer', minimum: 0, description: 'Encoder effort used (AVIF, WebP, GIF): lower for larger images, so they finish in time.' },
    },
  },
  timeouts: { startToCloseMs: TIMEOUT_MS, heartbeatMs: 30_000 },
  retry: defaultRetry,
  nonRetryableErrors: [INVALID_INPUT],
  inMemoryInput: true,
  async run(ctx) {
    const { inputPath, inputBuffer, workDir, params, limits, progress } = ctx;
    const decoded = await decodeImage(inputBuffer ?? inputPath, limits, { animated: ANIMATED_FORMATS.includes(params.format), timeoutMs: TIMEOUT_MS });
    progress(0.2);
    // Pixels are already upright (auto-orient), and sharp writes Orientation 1 with kept metadata.
    const image = params.keep_metadata ? decoded.image.keepMetadata() : decoded.image;
    const pixels = decoded.width * decoded.height * decoded.frames;
    const { extension, mimeType } = encodeImage(image, params.format, {
      quality: params.quality,
      pixels,
      lossless: params.lossless,
      progressive: params.progressive,
    });
    const path = join(workDir, `result.${extension}`);
    // AVIF of a large image can take a while: keep heartbeating.
    await withHeartbeat(ctx, 0.5, () => render(image.toFile(path)));
    progress(0.9);
    return {
      type: 'file',
      path,
      mimeType,
      extension,
      data: {
        format: params.format,
        width: decoded.width,
        height: decoded.height,
        frames: decoded.frames,
        size_bytes: (await stat(path)).size,
        metadata_kept: params.keep_metadata,
        ...(effortFor(params.format, pixels) === undefined ? {} : { effort: effortFor(params.format, pixels) }),
      },
    };
  },
});
