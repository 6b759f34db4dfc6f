import { defineAction, INVALID_INPUT } from '../../types.js';
import type { FromSchema, ParametersSchema } from '../../from-schema.js';
import {
  AUDIO_FORMATS,
  AUDIO_RETRY,
  AUDIO_TIMEOUTS,
  BITRATES,
  encodeTo,
  OPUS_SAMPLE_RATES,
  openAudio,
  round,
  runOnInput,
} from '../audio-io.js';

const codecOf = (options: string[]) => options[options.indexOf('-c:a') + 1]!;

const parameters = {
  type: 'object',
  additionalProperties: false,
  required: ['format'],
  properties: {
    format: {
      type: 'string',
      enum: [...AUDIO_FORMATS],
      description: 'Output format: ogg and opus are Opus in Ogg, m4a is AAC, webm is Opus.',
      examples: ['mp3'],
    },
    bitrate: { type: 'string', enum: [...BITRATES], default: '192k', description: 'Bit rate of lossy formats; ignored by wav and flac.' },
    sample_rate: {
      type: 'integer',
      anyOf: [{ const: 0 }, { minimum: 8000, maximum: 192000 }],
      default: 0,
      description: 'Output sample rate in Hz; 0 keeps the input rate (Opus outputs use 48000 then).',
    },
    channels: { type: 'integer', enum: [0, 1, 2], default: 0, description: '1 for mono, 2 for stereo; 0 keeps the input channels.' },
  },
  // Opus encodes only a few sample rates.
  if: { required: ['format'], properties: { format: { enum: ['ogg', 'opus', 'webm'] } } },
  then: { properties: { sample_rate: { enum: [0, ...OPUS_SAMPLE_RATES] } } },
} as const satisfies ParametersSchema;

export type FormatConvertParams = FromSchema<typeof parameters>;

export default defineAction({
  actionId: 'aud_format_convert',
  displayName: 'Convert audio format',
  buttonLabel: 'Convert',
  description: 'Re-encodes audio as MP3, WAV, FLAC, Ogg Opus, M4A (AAC) or WebM (Opus), optionally changing bit rate, sample rate and channels.',
  icon: 'file-music',
  mediaType: 'audio',
  priceTier: 'modify',
  resultType: 'file',
  parametersSchema: parameters,
  outputSchema: {
    type: 'object',
    properties: {
      format: { type: 'string' },
      duration_seconds: { type: 'number' },
      input_codec: { type: 'string' },
      codec: { type: 'string', description: 'Codec written; a WAV keeps the precision of 24-bit, 32-bit and float lossless input.' },
    },
  },
  timeouts: AUDIO_TIMEOUTS,
  retry: AUDIO_RETRY,
  nonRetryableErrors: [INVALID_INPUT],
  async run(ctx) {
    const { params } = ctx;
    const audio = await openAudio(ctx);
    const out = encodeTo(params.format, ctx.workDir, {
      bitrate: params.bitrate,
      sampleRate: params.sample_rate || undefined,
      channels: params.channels || undefined,
      source: audio,
    });
    await runOnInput(ctx, audio, { outputOptions: out.outputOptions, output: out.path, durationSeconds: audio.durationSeconds });
    return {
      type: 'file',
      path: out.path,
      mimeType: out.mimeType,
      extension: out.extension,
      data: { format: params.format, duration_seconds: round(audio.durationSeconds), input_codec: audio.codec, codec: codecOf(out.outputOptions) },
    };
  },
});
