import { AI_NON_RETRYABLE, AI_RETRY, AI_TIMEOUTS, stepUsage, usageData, usageSchema, withHeartbeat } from '../ai-support.js';
import { defineAction } from '../types.js';
import { openAudioForAi, TRANSCRIPT_REQUIRED, transcriptData, transcriptProperties } from './ai-audio.js';
import { modelAvailability, routeModel, TRANSCRIBE_MODELS, type TranscribeModel } from './transcribe-models.js';

export interface TranscribeParams {
  model: TranscribeModel;
  language: string;
  diarize: boolean;
  prompt: string;
}

export default defineAction<TranscribeParams>({
  actionId: 'aud_transcribe',
  displayName: 'Transcribe speech',
  buttonLabel: 'Transcribe',
  description:
    'Turns speech into text with timestamps, detecting the language unless told. The result can be downloaded as text, SRT or WebVTT subtitles, or JSON.',
  icon: 'microphone-text',
  mediaType: 'audio',
  category: 'transcribe',
  resultType: 'json',
  parametersSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      model: {
        type: 'string',
        enum: [...TRANSCRIBE_MODELS],
        default: 'auto',
        description:
          'Speech model. auto: OpenAI (OPENAI_TRANSCRIBE_MODEL, whisper-1 by default) when a key is configured, stored or sent, else local. ' +
          'local: PocketSphinx on the worker, English only, no key, with word timings and confidences. ' +
          'tiny, small, medium, large-v3: Whisper sizes, all served by OpenAI as whisper-1. ' +
          'whisper-1 gives segment and word timestamps; the gpt-4o models give the text as one segment. ' +
          'A model whose provider has no key is refused with 400.',
      },
      language: {
        type: 'string',
        pattern: '^(auto|[a-z]{2})$',
        default: 'auto',
        description: 'Spoken language as an ISO 639-1 code (e.g. en, de); auto detects it.',
      },
      diarize: {
        type: 'boolean',
        default: false,
        description: 'Label who speaks (speaker A, B, …) with gpt-4o-transcribe-diarize (needs OpenAI); overrides model, and ignores prompt.',
      },
      prompt: {
        type: 'string',
        maxLength: 1000,
        default: '',
        description: 'Text that guides spelling and style: names, jargon, or the preceding transcript.',
      },
    },
  },
  outputSchema: {
    type: 'object',
    required: [...TRANSCRIPT_REQUIRED, 'language', 'language_detected', 'model', 'requested_model', 'provider', 'usage'],
    properties: {
      ...transcriptProperties,
      language: { type: ['string', 'null'], description: 'The language requested, else the one detected (null when the model does not say).' },
      language_detected: { type: 'boolean' },
      model: { type: 'string', description: 'The model that transcribed (whisper-1, pocketsphinx-en-us, ...).' },
      requested_model: { type: 'string', enum: [...TRANSCRIBE_MODELS] },
      provider: { type: 'string' },
      usage: usageSchema,
    },
  },
  timeouts: AI_TIMEOUTS,
  retry: AI_RETRY,
  nonRetryableErrors: AI_NON_RETRYABLE,
  checkAvailability: (params, providers) => modelAvailability(params, providers),
  async run(ctx) {
    const { params } = ctx;
    const route = routeModel(params.model, params.diarize);
    const provider = ctx.ai.forAction('aud_transcribe', 'transcribe', route.provider);
    const { audio, durationSeconds } = await openAudioForAi(ctx);
    const requested = params.language === 'auto' ? undefined : params.language;
    // Engines that tell how far they are report it; the heartbeat keeps the others alive meanwhile.
    let done = 0.05;
    const transcript = await withHeartbeat(ctx, () => done, () =>
      provider.transcribe!(audio, {
        model: route.providerModel,
        language: requested,
        diarize: params.diarize,
        prompt: params.prompt || undefined,
        signal: ctx.signal,
        onProgress: (f) => {
          done = Math.max(done, Math.min(f, 1));
          ctx.progress(done);
        },
      }),
    );
    const usage = transcript.usage ?? { provider: provider.name, model: transcript.model ?? params.model, inputTokens: 0, outputTokens: 0 };
    return {
      type: 'json',
      data: {
        ...transcriptData(transcript, durationSeconds),
        language: requested ?? transcript.language ?? null,
        language_detected: !requested && transcript.language !== undefined,
        model: transcript.model ?? usage.model,
        requested_model: params.model,
        provider: provider.name,
        usage: usageData(usage),
      },
      usage: stepUsage(usage),
    };
  },
});
