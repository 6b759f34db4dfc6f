import { addUsage, type AiRegistry, type AudioInput, type Transcript } from '#lib/ai/ports.js';
import { AI_NON_RETRYABLE, AI_RETRY, AI_TIMEOUTS, stepUsage, usageData, usageSchema, withHeartbeat } from '../../ai-support.js';
import { defineAction, type ActionOutput } from '../../types.js';
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
  pieces: { provider: (ai, params) => translationProvider(ai, params).name, run: translateAudio, result: translateResult },
  async run(ctx) {
    const { audio, durationSeconds } = await openAudioForAi(ctx);
    let done = 0.2;
    const { transcript, provider } = await withHeartbeat(ctx, () => done, () =>
      translateAudio(ctx.ai, ctx.params, audio, {
        signal: ctx.signal,
        onProgress: (f) => {
          done = Math.max(done, Math.min(f, 1));
          ctx.progress(done);
        },
      }),
    );
    return translateResult(transcript, provider, ctx.params, durationSeconds);
  },
});

const toEnglish = (target: string) => target === 'en' || target.startsWith('en-');

/** The provider that hears the speech: the translations endpoint's for English, the transcription's otherwise. */
function translationProvider(ai: AiRegistry, params: TranslateParams) {
  return ai.forAction('aud_translate', toEnglish(params.target_language) ? 'translateAudio' : 'transcribe');
}

/**
 * The audio's speech translated, with the timestamps of its segments (the whole input, or one piece
 * of long audio). To English directly from the audio; to another language, transcribed and then the
 * segments translated in one request so the timestamps survive (no endpoint translates speech into
 * other languages). The transcript's `language` is the spoken one in that case, `en` otherwise.
 */
export async function translateAudio(
  ai: AiRegistry,
  params: TranslateParams,
  audio: AudioInput,
  opts: { signal: AbortSignal; onProgress?: (fraction: number) => void },
): Promise<{ transcript: Transcript; provider: string }> {
  const { signal } = opts;
  const target = params.target_language;
  const prompt = params.prompt || undefined;
  const provider = translationProvider(ai, params);
  if (toEnglish(target)) return { transcript: await provider.translateAudio!(audio, { prompt, signal }), provider: provider.name };
  const heard = await provider.transcribe!(audio, { model: 'whisper-1', prompt, signal });
  opts.onProgress?.(0.6);
  const translator = ai.forAction('aud_translate', 'translateText');
  const translated = await translator.translateText!(heard.segments.map((s) => s.text), { targetLanguage: target, signal });
  const aligned = translated.texts.length === heard.segments.length;
  const end = heard.duration ?? Math.max(0, ...heard.segments.map((s) => s.end));
  return {
    transcript: {
      ...heard,
      text: translated.texts.join(' '),
      // A reply that lost the segment alignment still gives the text, as one segment.
      segments: aligned
        ? heard.segments.map((s, i) => ({ ...s, text: translated.texts[i]!, words: undefined }))
        : [{ id: 0, start: 0, end, text: translated.texts.join(' ') }],
      words: undefined,
      usage: addUsage(heard.usage, translated.usage),
    },
    provider: provider.name,
  };
}

/** The step's output from the translated transcript (of the whole input, or its pieces joined). */
export function translateResult(transcript: Transcript, _provider: string, params: TranslateParams, durationSeconds: number): Extract<ActionOutput, { type: 'json' }> {
  const target = params.target_language;
  const usage = transcript.usage ?? { provider: 'openai' as const, model: 'unknown', inputTokens: 0, outputTokens: 0 };
  // Word timings are the spoken language's; the translation keeps the segments' only.
  const data = transcriptData({ ...transcript, words: undefined, segments: transcript.segments.map((s) => ({ ...s, words: undefined })) }, durationSeconds);
  return {
    type: 'json',
    data: { ...data, source_language: toEnglish(target) ? null : (transcript.language ?? null), target_language: target, usage: usageData(usage) },
    usage: stepUsage(usage),
  };
}
