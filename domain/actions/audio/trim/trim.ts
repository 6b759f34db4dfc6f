import { defineAction, INVALID_INPUT, ActionError } from '../../types.js';
import type { FromSchema, ParametersSchema } from '../../from-schema.js';
import {
  AUDIO_RETRY,
  AUDIO_TIMEOUTS,
  encodeTo,
  formatParameter,
  openAudio,
  round,
  runOnInput,
} from '../audio-io.js';

const seconds = { type: 'number', minimum: 0, maximum: 86_400 } as const;

const parameters = {
  type: 'object',
  additionalProperties: false,
  required: ['start'],
  oneOf: [{ required: ['end'] }, { required: ['duration'] }],
  properties: {
    start: { ...seconds, description: 'Where the kept range starts, in seconds.', examples: [5] },
    end: { ...seconds, exclusiveMinimum: 0, description: 'Where the kept range ends, in seconds (or give duration).', examples: [35] },
    duration: { ...seconds, exclusiveMinimum: 0, description: 'Length of the kept range, in seconds (or give end).', examples: [30] },
    fade_in: { ...seconds, default: 0, description: 'Fade-in length at the start of the range, in seconds.' },
    fade_out: { ...seconds, default: 0, description: 'Fade-out length at the end of the range, in seconds.' },
    format: formatParameter,
  },
} as const satisfies ParametersSchema;

export type TrimParams = FromSchema<typeof parameters>;

export default defineAction({
  actionId: 'aud_trim',
  displayName: 'Trim audio',
  buttonLabel: 'Trim',
  description: 'Cuts a range out of an audio file, with optional fades at either end.',
  icon: 'scissors',
  mediaType: 'audio',
  priceTier: 'modify',
  resultType: 'file',
  parametersSchema: parameters,
  outputSchema: {
    type: 'object',
    properties: {
      start: { type: 'number' },
      end: { type: 'number' },
      duration_seconds: { type: 'number' },
      format: { type: 'string' },
    },
  },
  timeouts: AUDIO_TIMEOUTS,
  retry: AUDIO_RETRY,
  nonRetryableErrors: [INVALID_INPUT],
  async run(ctx) {
    const { params } = ctx;
    const audio = await openAudio(ctx);
    if (params.start >= audio.durationSeconds) {
      throw new ActionError(INVALID_INPUT, `start (${params.start} s) is beyond the end of the audio (${round(audio.durationSeconds)} s)`);
    }
    const requestedEnd = params.end ?? params.start + params.duration!;
    if (requestedEnd <= params.start) throw new ActionError(INVALID_INPUT, `end (${requestedEnd} s) must be after start (${params.start} s)`);
    const end = Math.min(requestedEnd, audio.durationSeconds);
    const length = end - params.start;
    const fadeIn = Math.min(params.fade_in, length);
    const fadeOut = Math.min(params.fade_out, length);
    const filters = [
      'asetpts=PTS-STARTPTS',
      ...(fadeIn > 0 ? [`afade=t=in:st=0:d=${fadeIn}`] : []),
      ...(fadeOut > 0 ? [`afade=t=out:st=${round(length - fadeOut, 6)}:d=${fadeOut}`] : []),
    ];
    const format = params.format === 'original' ? audio.format : params.format;
    const out = encodeTo(format, ctx.workDir, { like: params.format === 'original' ? audio : undefined, source: audio });
    // Seeking on the input is sample-accurate when decoding, and skips decoding what is cut.
    await runOnInput(ctx, audio, {
      inputOptions: ['-ss', String(params.start)],
      outputOptions: ['-t', String(round(length, 6)), '-af', filters.join(','), ...out.outputOptions],
      output: out.path,
      durationSeconds: length,
    });
    return {
      type: 'file',
      path: out.path,
      mimeType: out.mimeType,
      extension: out.extension,
      data: { start: params.start, end: round(end), duration_seconds: round(length), format },
    };
  },
});
