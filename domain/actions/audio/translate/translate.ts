import { addUsage, type Transcript } from '#lib/ai/ports.js';
import { AI_NON_RETRYABLE, AI_RETRY, AI_TIMEOUTS, stepUsage, usageData, usageSchema, withHeartbeat } from '../../ai-support.js';
import { defineAction } from '../../types.js';
import type { FromSchema, ParametersSchema } from '../../from-schema.js';
import { openAudioForAi, TRANSCRIPT_REQUIRED, transcriptData, transcriptProperties } from '../ai-audio.js';

const parameters = {
  type: 'object',
  additionalProperties: false,
  properties: {
    target_language: {
      type: 'string',
      pattern: '^[a-z]{2}(-[A-Z]{2})?$',
      default: 'en',
      description: 'Language to translate into, as an ISO 639-1 code (optionally with a region, e.g. pt-BR).',
    },
    prompt: {
      type: 'string',
      maxLength: 1000,
      default: '',
      description: 'English text that guides spelling and style of the translation (names, jargon).',
    },
  },
} as const satisfies ParametersSchema;

export type TranslateParams = FromSchema<typeof parameters>;

export default defineAction({
  actionId: 'aud_translate',
  displayName: 'Translate speech',
  buttonLabel: 'Translate',
  description:
    'Transcribes speech and translates it, keeping the timestamps: to English directly from the audio, to other languages through a language model. Downloadable as text, SRT, WebVTT or JSON.',
  icon: 'translate',
  mediaType: 'audio',
  priceTier: 'transcribe',
  resultType: 'json',
  parametersSchema: parameters,
  outputSchema: {
    type: 'object',
    required: [...TRANSCRIPT_REQUIRED, 'source_language', 'target_language', 'usage'],
    properties: {
      ...transcriptProperties,
      source_language: { type: ['string', 'null'], description: 'Detected spoken language, when the provider says.' },
      target_language: { type: 'string' },
      usage: usageSchema,
    },
  },
  timeouts: AI_TIMEOUTS,
  retry: AI_RETRY,
  nonRetryableErrors: AI_NON_RETRYABLE,
  ai: { provider: 'openai' },
  async run(ctx) {
    const { params, signal } = ctx;
    const target = params.target_language;
    const prompt = params.prompt || undefined;
    const { audio, durationSeconds } = await openAudioForAi(ctx);

    let result: Transcript;
    let sourceLanguage: string | null = null;
    if (target === 'en' || target.startsWith('en-')) {
      const provider = ctx.ai.forAction('aud_translate', 'translateAudio');
      result = await withHeartbeat(ctx, 0.2, () => provider.translateAudio!(audio, { prompt, signal }));
    } else {
      // No endpoint translates speech into other languages: transcribe, then translate the segments
      // in one request so the timestamps survive.
      const provider = ctx.ai.forAction('aud_translate', 'transcribe');
      const heard = await withHeartbeat(ctx, 0.2, () => provider.transcribe!(audio, { model: 'whisper-1', prompt, signal }));
      sourceLanguage = heard.language ?? null;
      const translator = ctx.ai.forAction('aud_translate', 'translateText');
      const translated = await withHeartbeat(ctx, 0.6, () =>
        translator.translateText!(heard.segments.map((s) => s.text), { targetLanguage: target, signal }),
      );
      const aligned = translated.texts.length === heard.segments.length;
      result = {
        ...heard,
        text: translated.texts.join(' '),
        // A reply that lost the segment alignment still gives the text, as one segment.
        segments: aligned
          ? heard.segments.map((s, i) => ({ ...s, text: translated.texts[i]!, words: undefined }))
          : [{ id: 0, start: 0, end: heard.duration ?? durationSeconds, text: translated.texts.join(' ') }],
        words: undefined,
        usage: addUsage(heard.usage, translated.usage),
      };
    }
    const usage = result.usage ?? { provider: 'openai' as const, model: 'unknown', inputTokens: 0, outputTokens: 0 };
    // Word timings are the spoken language's; the translation keeps the segments' only.
    const data = transcriptData({ ...result, words: undefined, segments: result.segments.map((s) => ({ ...s, words: undefined })) }, durationSeconds);
    return {
      type: 'json',
      data: { ...data, source_language: sourceLanguage, target_language: target, usage: usageData(usage) },
      usage: stepUsage(usage),
    };
  },
});
