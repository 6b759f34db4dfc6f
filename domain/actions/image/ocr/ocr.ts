import { AI_NON_RETRYABLE, AI_RETRY, AI_TIMEOUTS, stepUsage, usageData, usageSchema, withHeartbeat } from '../../ai-support.js';
import { defineAction } from '../../types.js';
import type { FromSchema, ParametersSchema } from '../../from-schema.js';
import { prepareImage } from '../ai-image.js';

/** Remote models read a downscaled copy; boxes are scaled back to the original's pixels. */
const REMOTE_MAX_EDGE = 2048;

const bbox = {
  type: 'object',
  required: ['left', 'top', 'width', 'height'],
  properties: { left: { type: 'integer' }, top: { type: 'integer' }, width: { type: 'integer' }, height: { type: 'integer' } },
};

const parameters = {
  type: 'object',
  additionalProperties: false,
  properties: {
    provider: {
      type: 'string',
      enum: ['auto', 'openai', 'anthropic', 'tesseract'],
      default: 'auto',
      description: 'OCR engine. auto uses the configured one, or local Tesseract when no OpenAI key is configured.',
    },
    language: {
      type: 'string',
      pattern: '^[a-z]{3}(_[a-z]+)?(\\+[a-z]{3}(_[a-z]+)?)*$',
      default: 'eng',
      description: 'Language of the text as ISO 639-2 codes (Tesseract names), several joined with +, e.g. eng+deu.',
    },
  },
} as const satisfies ParametersSchema;

export type OcrParams = FromSchema<typeof parameters>;

export default defineAction({
  actionId: 'img_ocr',
  displayName: 'Extract text (OCR)',
  buttonLabel: 'Extract text',
  description: 'Reads the text in an image, with the position and confidence of each piece of text.',
  icon: 'text-recognition',
  mediaType: 'image',
  priceTier: 'transcribe',
  resultType: 'json',
  parametersSchema: parameters,
  outputSchema: {
    type: 'object',
    required: ['text', 'blocks', 'provider', 'language', 'image', 'usage'],
    properties: {
      text: { type: 'string', description: 'All the text, lines separated by newlines.' },
      blocks: {
        type: 'array',
        items: {
          type: 'object',
          required: ['text', 'confidence', 'bbox'],
          properties: { text: { type: 'string' }, confidence: { type: 'number', minimum: 0, maximum: 1 }, bbox },
        },
      },
      provider: { type: 'string' },
      language: { type: 'string' },
      image: { type: 'object', properties: { width: { type: 'integer' }, height: { type: 'integer' } } },
      usage: usageSchema,
    },
  },
  timeouts: AI_TIMEOUTS,
  retry: AI_RETRY,
  nonRetryableErrors: AI_NON_RETRYABLE,
  ai: { provider: 'openai' },
  async run(ctx) {
    const { params } = ctx;
    const provider = ctx.ai.forAction('img_ocr', 'ocr', params.provider === 'auto' ? undefined : params.provider);
    const image = await prepareImage(ctx.inputPath, ctx.workDir, ctx.limits, provider.name === 'tesseract' ? undefined : REMOTE_MAX_EDGE);
    const result = await withHeartbeat(ctx, 0.3, () => provider.ocr!(image, { language: params.language, signal: ctx.signal }));
    const usage = result.usage ?? { provider: provider.name, model: provider.name, inputTokens: 0, outputTokens: 0 };
    const scale = (n: number) => Math.round(n * image.scale);
    return {
      type: 'json',
      data: {
        text: result.text,
        blocks: result.blocks.map((b) => ({
          text: b.text,
          confidence: b.confidence,
          bbox: { left: scale(b.bbox.left), top: scale(b.bbox.top), width: scale(b.bbox.width), height: scale(b.bbox.height) },
        })),
        provider: provider.name,
        language: params.language,
        image: image.original,
        usage: usageData(usage),
      },
      usage: stepUsage(usage),
    };
  },
});
