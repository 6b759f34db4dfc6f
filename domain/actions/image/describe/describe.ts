import { AI_NON_RETRYABLE, AI_RETRY, AI_TIMEOUTS, stepUsage, usageData, usageSchema, withHeartbeat } from '../../ai-support.js';
import { defineAction } from '../../types.js';
import type { FromSchema, ParametersSchema } from '../../from-schema.js';
import { prepareImage } from '../ai-image.js';

/** Vision models gain nothing above this size, and their request limits are a few megabytes. */
const MAX_EDGE = 1568;

const parameters = {
  type: 'object',
  additionalProperties: false,
  properties: {
    provider: {
      type: 'string',
      enum: ['auto', 'anthropic', 'openai'],
      default: 'auto',
      description: 'AI provider. auto uses the configured one (Anthropic Claude by default).',
    },
  },
} as const satisfies ParametersSchema;

export type DescribeParams = FromSchema<typeof parameters>;

export default defineAction({
  actionId: 'img_describe',
  displayName: 'Describe image',
  buttonLabel: 'Describe',
  description: 'Describes an image with an AI model: a caption, tags, the objects seen and content-safety flags.',
  icon: 'image-text',
  mediaType: 'image',
  priceTier: 'transcribe',
  resultType: 'json',
  parametersSchema: parameters,
  outputSchema: {
    type: 'object',
    required: ['caption', 'tags', 'objects', 'safety', 'provider', 'usage'],
    properties: {
      caption: { type: 'string' },
      tags: { type: 'array', items: { type: 'string' } },
      objects: {
        type: 'array',
        items: { type: 'object', required: ['label'], properties: { label: { type: 'string' }, confidence: { type: 'number', minimum: 0, maximum: 1 } } },
      },
      safety: { type: 'object', additionalProperties: { type: 'boolean' }, description: 'Content flags, e.g. adult, violence, medical, racy.' },
      provider: { type: 'string' },
      usage: usageSchema,
    },
  },
  timeouts: AI_TIMEOUTS,
  retry: AI_RETRY,
  nonRetryableErrors: AI_NON_RETRYABLE,
  ai: { provider: 'anthropic' },
  async run(ctx) {
    const provider = ctx.ai.forAction('img_describe', 'describeImage', ctx.params.provider === 'auto' ? undefined : ctx.params.provider);
    const image = await prepareImage(ctx.inputPath, ctx.workDir, ctx.limits, MAX_EDGE);
    const result = await withHeartbeat(ctx, 0.3, () => provider.describeImage!(image, { signal: ctx.signal }));
    const usage = result.usage ?? { provider: provider.name, model: provider.name, inputTokens: 0, outputTokens: 0 };
    return {
      type: 'json',
      data: {
        caption: result.caption,
        tags: result.tags,
        objects: result.objects,
        safety: result.safety,
        provider: provider.name,
        usage: usageData(usage),
      },
      usage: stepUsage(usage),
    };
  },
});
