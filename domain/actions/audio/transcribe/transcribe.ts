import { AI_NON_RETRYABLE, AI_RETRY, AI_TIMEOUTS, usageSchema, withHeartbeat } from '../../ai-support.js';
import { defineAction } from '../../types.js';
import type { FromSchema, ParametersSchema } from '../../from-schema.js';
import { openAudioForAi, TRANSCRIPT_REQUIRED, transcriptProperties } from '../ai-audio.js';
import { modelAvailability, TRANSCRIBE_MODELS } from '../transcribe-models.js';
import { transcribeAudio, transcribeResult, transcriptionProvider } from '../transcription.js';

const parameters = {
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
} as const satisfies ParametersSchema;

export type TranscribeParams = FromSchema<typeof parameters>;

export default defineAction({
  actionId: 'aud_transcribe',
  displayName: 'Transcribe speech',
  buttonLabel: 'Transcribe',
  description:
    'Turns speech into text with timestamps, detecting the language unless told. The result can be downloaded as text, SRT or WebVTT subtitles, or JSON.',
  icon: 'microphone-text',
  mediaType: 'audio',
  priceTier: 'transcribe',
  resultType: 'json',
  parametersSchema: parameters,
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
  ai: { provider: 'openai' },
  checkAvailability: (params, providers) => modelAvailability(params, providers),
  pieces: { provider: (ai, params) => transcriptionProvider(ai, params).provider.name, run: transcribeAudio, result: transcribeResult },
  async run(ctx) {
    const { audio, durationSeconds } = await openAudioForAi(ctx);
    // Engines that tell how far they are report it; the heartbeat keeps the others alive meanwhile.
    let done = 0.05;
    const { transcript, provider } = await withHeartbeat(ctx, () => done, () =>
      transcribeAudio(ctx.ai, ctx.params, audio, {
        signal: ctx.signal,
        onProgress: (f) => {
          done = Math.max(done, Math.min(f, 1));
          ctx.progress(done);
        },
      }),
    );
    return transcribeResult(transcript, provider, ctx.params, durationSeconds);
  },
});
