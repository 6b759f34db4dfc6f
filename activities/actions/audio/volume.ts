import { ActionError, defineAction, INVALID_INPUT } from '../types.js';
import {
  AUDIO_RETRY,
  AUDIO_TIMEOUTS,
  encodeTo,
  formatParameter,
  loudnormCollector,
  openAudio,
  runOnInput,
  type AudioFormat,
} from './audio-io.js';

export interface VolumeParams {
  mode: 'gain' | 'normalize';
  gain_db: number;
  target_lufs: number;
  true_peak: number;
  format: AudioFormat | 'original';
}

// loudnorm's loudness range target; high enough that it never compresses typical material.
const LRA = 20;

export default defineAction<VolumeParams>({
  actionId: 'aud_volume',
  displayName: 'Adjust volume',
  buttonLabel: 'Adjust volume',
  description: 'Changes the volume by a fixed gain, or normalizes loudness to a target (EBU R128, two passes).',
  icon: 'volume-2',
  mediaType: 'audio',
  category: 'modify',
  resultType: 'file',
  parametersSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      mode: { type: 'string', enum: ['gain', 'normalize'], default: 'normalize', description: 'gain applies gain_db; normalize reaches target_lufs.' },
      gain_db: { type: 'number', minimum: -60, maximum: 60, default: 0, description: 'Gain in dB for mode gain.', examples: [6] },
      target_lufs: { type: 'number', minimum: -70, maximum: -5, default: -16, description: 'Integrated loudness target for mode normalize, in LUFS.' },
      true_peak: { type: 'number', minimum: -9, maximum: 0, default: -1.5, description: 'Maximum true peak for mode normalize, in dBTP.' },
      format: formatParameter,
    },
  },
  outputSchema: {
    type: 'object',
    properties: {
      mode: { type: 'string' },
      gain_db: { type: 'number' },
      input_lufs: { type: ['number', 'null'] },
      input_true_peak: { type: ['number', 'null'] },
      output_lufs: { type: ['number', 'null'] },
      output_true_peak: { type: ['number', 'null'] },
      format: { type: 'string' },
    },
  },
  timeouts: AUDIO_TIMEOUTS,
  retry: AUDIO_RETRY,
  nonRetryableErrors: [INVALID_INPUT],
  async run(ctx) {
    const { params } = ctx;
    const audio = await openAudio(ctx);
    const format = params.format === 'original' ? audio.format : params.format;
    // loudnorm works at 192 kHz: the output goes back to the input's rate.
    const out = encodeTo(format, ctx.workDir, { like: params.format === 'original' ? audio : undefined, sampleRate: audio.sampleRate });
    const encode = (filter: string, range: [number, number], onStderr?: (line: string) => void) =>
      runOnInput(ctx, audio, { outputOptions: ['-af', filter, ...out.outputOptions], output: out.path, durationSeconds: audio.durationSeconds, onStderr }, range);
    const file = { type: 'file' as const, path: out.path, mimeType: out.mimeType, extension: out.extension };

    if (params.mode === 'gain') {
      await encode(`volume=${params.gain_db}dB`, [0, 1]);
      return { ...file, data: { mode: 'gain', gain_db: params.gain_db, format } };
    }

    // Pass one measures; pass two applies a linear gain computed from the measurement.
    const target = `I=${params.target_lufs}:TP=${params.true_peak}:LRA=${LRA}`;
    const measure = loudnormCollector();
    await runOnInput(
      ctx,
      audio,
      { outputOptions: ['-map', '0:a:0', '-af', `loudnorm=${target}:print_format=json`, '-f', 'null'], output: null, durationSeconds: audio.durationSeconds, onStderr: measure.collect },
      [0, 0.5],
    );
    const m = measure.result();
    if (m.input_i === null || m.input_tp === null || m.input_lra === null || m.input_thresh === null || m.target_offset === null) {
      throw new ActionError(INVALID_INPUT, 'the audio is silent: there is no loudness to normalize');
    }
    const applied = loudnormCollector();
    await encode(
      `loudnorm=${target}:measured_I=${m.input_i}:measured_TP=${m.input_tp}:measured_LRA=${m.input_lra}:measured_thresh=${m.input_thresh}:offset=${m.target_offset}:linear=true:print_format=json`,
      [0.5, 1],
      applied.collect,
    );
    const result = applied.result();
    return {
      ...file,
      data: {
        mode: 'normalize',
        input_lufs: m.input_i,
        input_true_peak: m.input_tp,
        output_lufs: result.output_i,
        output_true_peak: result.output_tp,
        format,
      },
    };
  },
});
