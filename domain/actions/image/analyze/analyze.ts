import type { Sharp } from 'sharp';
import { AI_PROVIDER_ERROR, type AiProvider, type Usage } from '#lib/ai/ports.js';
import { stepUsage, usageData, usageSchema, withHeartbeat } from '../../ai-support.js';
import { ActionError, asActionError, defaultRetry, defineAction, INVALID_INPUT, type ActionContext } from '../../types.js';
import type { FromSchema, ParametersSchema } from '../../from-schema.js';
import { prepareImage } from '../ai-image.js';
import { dominantColors } from '../colors.js';
import { decodeImage, render } from '../../../media/sharp-io.js';

/** Sharpness is measured at this size so that it compares across image sizes. */
const SHARPNESS_SIZE = 1024;
/** Colours are clustered on a thumbnail: enough for proportions, cheap for k-means. */
const COLOR_SAMPLE_SIZE = 64;
/** What an AI provider is shown: large enough for detail, small enough for cost and upload limits. */
const AI_PREVIEW_SIZE = 1568;

const channelStats = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'min', 'max', 'mean', 'stdev'],
  properties: {
    name: { type: 'string', examples: ['red'] },
    min: { type: 'number' },
    max: { type: 'number' },
    mean: { type: 'number' },
    stdev: { type: 'number' },
  },
};

const parameters = {
  type: 'object',
  additionalProperties: false,
  properties: {
    include_description: {
      type: 'boolean',
      default: true,
      description: 'Ask the configured AI provider for a description. Without a configured provider the result simply has none.',
    },
    color_count: { type: 'integer', minimum: 1, maximum: 12, default: 5, description: 'How many dominant colours to report at most.' },
    blur_threshold: {
      type: 'number',
      minimum: 0,
      default: 100,
      description: 'Variance of the Laplacian below which the image counts as blurry.',
    },
  },
} as const satisfies ParametersSchema;

export type AnalyzeParams = FromSchema<typeof parameters>;

export default defineAction({
  actionId: 'img_analyze',
  displayName: 'Analyze image',
  buttonLabel: 'Analyze',
  description:
    'Measures an image: per-channel statistics, dominant colours, sharpness (blur), entropy and transparency; ' +
    'adds an AI description of its content when an AI provider is configured.',
  icon: 'chart-bar',
  mediaType: 'image',
  priceTier: 'process',
  resultType: 'json',
  parametersSchema: parameters,
  outputSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['width', 'height', 'channels', 'dominant_colors', 'sharpness', 'entropy', 'is_opaque'],
    properties: {
      width: { type: 'integer' },
      height: { type: 'integer' },
      channels: { type: 'array', items: channelStats, description: 'Statistics per channel, in the sample range of the image (0-255 for 8 bit).' },
      dominant_colors: {
        type: 'array',
        description: 'Most common colours (k-means in sRGB), largest share first; transparent pixels are left out.',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['hex', 'rgb', 'fraction'],
          properties: {
            hex: { type: 'string', pattern: '^#[0-9a-f]{6}$' },
            rgb: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 255 }, minItems: 3, maxItems: 3 },
            fraction: { type: 'number', minimum: 0, maximum: 1 },
          },
        },
      },
      sharpness: {
        type: 'object',
        additionalProperties: false,
        required: ['laplacian_variance', 'is_blurry', 'threshold'],
        properties: {
          laplacian_variance: { type: 'number', minimum: 0, description: `Variance of the Laplacian of the greyscale image scaled to at most ${SHARPNESS_SIZE}px.` },
          is_blurry: { type: 'boolean' },
          threshold: { type: 'number' },
        },
      },
      entropy: { type: 'number', minimum: 0, description: 'Greyscale histogram entropy in bits (0-8).' },
      is_opaque: { type: 'boolean' },
      description: {
        type: 'object',
        additionalProperties: false,
        required: ['caption', 'tags', 'objects', 'provider'],
        properties: {
          caption: { type: 'string' },
          tags: { type: 'array', items: { type: 'string' } },
          objects: {
            type: 'array',
            items: { type: 'object', required: ['label'], properties: { label: { type: 'string' }, confidence: { type: 'number' } } },
          },
          safety: { type: 'object', additionalProperties: { type: 'boolean' } },
          provider: { type: 'string' },
          usage: usageSchema,
        },
      },
    },
  },
  timeouts: { startToCloseMs: 180_000, heartbeatMs: 30_000 },
  retry: { ...defaultRetry, maximumAttempts: 3 },
  nonRetryableErrors: [INVALID_INPUT, AI_PROVIDER_ERROR],
  async run(ctx) {
    const { inputPath, params, limits, progress } = ctx;
    const decoded = await decodeImage(inputPath, limits, { timeoutMs: 60_000 });
    const { image } = decoded;
    const stats = await withHeartbeat(ctx, 0.1, () => render(image.clone().stats()));
    progress(0.3);
    const laplacianVariance = await sharpness(image);
    progress(0.5);
    const colors = await dominantColors(image.clone(), COLOR_SAMPLE_SIZE, params.color_count);
    progress(0.6);
    const description = params.include_description ? await describe(ctx) : undefined;
    const names = channelNames(stats.channels.length, decoded.meta.space);
    return {
      type: 'json',
      data: {
        width: decoded.width,
        height: decoded.height,
        channels: stats.channels.map((c, i) => ({ name: names[i] ?? `channel_${i}`, min: c.min, max: c.max, mean: round(c.mean), stdev: round(c.stdev) })),
        dominant_colors: colors,
        sharpness: { laplacian_variance: round(laplacianVariance), is_blurry: laplacianVariance < params.blur_threshold, threshold: params.blur_threshold },
        entropy: round(stats.entropy),
        is_opaque: stats.isOpaque,
        ...(description ? { description: description.data } : {}),
      },
      ...(description?.usage ? { usage: stepUsage(description.usage) } : {}),
    };
  },
});

/** Variance of the 4-neighbour Laplacian: low when edges are soft, i.e. the image is blurred. */
async function sharpness(image: Sharp): Promise<number> {
  const { data, info } = await render(
    image
      .clone()
      .resize(SHARPNESS_SIZE, SHARPNESS_SIZE, { fit: 'inside', withoutEnlargement: true })
      .removeAlpha()
      .greyscale()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true }),
  );
  const { width: w, height: h, channels: c } = info;
  if (w < 3 || h < 3) return 0;
  const at = (x: number, y: number) => data[(y * w + x) * c]!;
  let sum = 0;
  let squares = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const v = at(x - 1, y) + at(x + 1, y) + at(x, y - 1) + at(x, y + 1) - 4 * at(x, y);
      sum += v;
      squares += v * v;
    }
  }
  const n = (w - 2) * (h - 2);
  return Math.max(0, squares / n - (sum / n) ** 2);
}

/**
 * An AI description when a provider is configured. The registry refusing (no provider can
 * describe images) means "no description"; a provider that fails fails the action, retried or
 * not as its error says.
 */
async function describe(ctx: ActionContext<AnalyzeParams>): Promise<{ data: Record<string, unknown>; usage?: Usage } | undefined> {
  let provider: AiProvider;
  try {
    provider = ctx.ai.forAction('img_analyze', 'describeImage');
  } catch (thrown) {
    const err = asActionError(thrown);
    if (err instanceof ActionError && err.type === AI_PROVIDER_ERROR) return undefined;
    throw err;
  }
  const input = await prepareImage(ctx.inputPath, ctx.workDir, ctx.limits, AI_PREVIEW_SIZE);
  const result = await withHeartbeat(ctx, 0.7, () => provider.describeImage!(input, { signal: ctx.signal }));
  return {
    data: {
      caption: result.caption,
      tags: result.tags,
      objects: result.objects,
      safety: result.safety,
      provider: result.usage?.provider ?? provider.name,
      ...(result.usage ? { usage: usageData(result.usage) } : {}),
    },
    usage: result.usage,
  };
}

function channelNames(count: number, space: string | undefined): string[] {
  if (space === 'cmyk') return ['cyan', 'magenta', 'yellow', 'black', 'alpha'];
  if (count <= 2) return ['grey', 'alpha'];
  return ['red', 'green', 'blue', 'alpha'];
}

const round = (n: number) => Math.round(n * 1000) / 1000;
