import { AI_NON_RETRYABLE, AI_RETRY, AI_TIMEOUTS, stepUsage, usageData, usageSchema, withHeartbeat } from '../ai-support.js';
import { defineAction } from '../types.js';
import { openAudioForAi, segmentSchema, transcriptData } from './ai-audio.js';

export interface TranscribeParams {
  model: 'auto' | 'whisper-1' | 'gpt-4o-transcribe' | 'gpt-4o-mini-transcribe';
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
        enum: ['auto', 'whisper-1', 'gpt-4o-transcribe', 'gpt-4o-mini-transcribe'],
        default: 'auto',
        description:
          'Speech model. auto uses the configured one (whisper-1 by default). whisper-1 gives segment and word timestamps; the gpt-4o models give the text as one segment.',
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
        description: 'Label who speaks (speaker A, B, …) with gpt-4o-transcribe-diarize; overrides model, and ignores prompt.',
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
    required: ['text', 'language', 'language_detected', 'duration', 'segments', 'model', 'usage'],
    properties: {
      text: { type: 'string' },
      language: { type: ['string', 'null'], description: 'The language requested, else the one detected (null when the model does not say).' },
      language_detected: { type: 'boolean' },
      duration: { type: 'number', description: 'Seconds.' },
      segments: { type: 'array', items: segmentSchema },
      words: {
        type: 'array',
        items: { type: 'object', required: ['word', 'start', 'end'], properties: { word: { type: 'string' }, start: { type: 'number' }, end: { type: 'number' } } },
      },
      model: { type: 'string' },
      usage: usageSchema,
    },
  },
  timeouts: AI_TIMEOUTS,
  retry: AI_RETRY,
  nonRetryableErrors: AI_NON_RETRYABLE,
  async run(ctx) {
    const { params } = ctx;
    const provider = ctx.ai.forAction('aud_transcribe', 'transcribe');
    const { audio, durationSeconds } = await openAudioForAi(ctx);
    const requested = params.language === 'auto' ? undefined : params.language;
    const transcript = await withHeartbeat(ctx, 0.2, () =>
      provider.transcribe!(audio, {
        model: params.model === 'auto' ? undefined : params.model,
        language: requested,
        diarize: params.diarize,
        prompt: params.prompt || undefined,
        signal: ctx.signal,
      }),
    );
    const usage = transcript.usage ?? { provider: provider.name, model: params.model, inputTokens: 0, outputTokens: 0 };
    return {
      type: 'json',
      data: {
        ...transcriptData(transcript, durationSeconds),
        language: requested ?? transcript.language ?? null,
        language_detected: !requested && transcript.language !== undefined,
        model: usage.model,
        usage: usageData(usage),
      },
      usage: stepUsage(usage),
    };
  },
});
