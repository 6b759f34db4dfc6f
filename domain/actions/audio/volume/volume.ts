import { ActionError, defineAction, INVALID_INPUT } from '../../types.js';
import type { FromSchema, ParametersSchema } from '../../from-schema.js';
import {
  AUDIO_RETRY,
  AUDIO_TIMEOUTS,
  encodeTo,
  formatParameter,
  loudnessOf,
  loudnormCollector,
  MEASURE_FILTERS,
  measurementCollector,
  openAudio,
  round,
  runOnInput,
} from '../audio-io.js';

// loudnorm's loudness range target; high enough that it never compresses typical material.
const LRA = 20;

const parameters = {
  type: 'object',
  additionalProperties: false,
  properties: {
    mode: { type: 'string', enum: ['gain', 'normalize'], default: 'normalize', description: 'gain applies gain_db; normalize reaches target_lufs.' },
    gain_db: { type: 'number', minimum: -60, maximum: 60, default: 0, description: 'Gain in dB for mode gain.', examples: [6] },
    target_lufs: { type: 'number', minimum: -70, maximum: -5, default: -16, description: 'Integrated loudness target for mode normalize, in LUFS.' },
    true_peak: { type: 'number', minimum: -9, maximum: 0, default: -1.5, description: 'Maximum true peak for mode normalize, in dBTP.' },
    format: formatParameter,
  },
} as const satisfies ParametersSchema;

export type VolumeParams = FromSchema<typeof parameters>;

export default defineAction({
  actionId: 'aud_volume',
  displayName: 'Adjust volume',
  buttonLabel: 'Adjust volume',
  description: 'Changes the volume by a fixed gain, or normalizes loudness to a target (EBU R128 measured, then one gain within the true-peak limit, or loudnorm where the peak needs limiting).',
  icon: 'volume-2',
  mediaType: 'audio',
  priceTier: 'modify',
  resultType: 'file',
  parametersSchema: parameters,
  outputSchema: {
    type: 'object',
    properties: {
      mode: { type: 'string' },
      gain_db: { type: 'number' },
      input_lufs: { type: ['number', 'null'] },
      input_true_peak: { type: ['number', 'null'] },
      output_lufs: { type: ['number', 'null'] },
      output_true_peak: { type: ['number', 'null'] },
      measurement: {
        type: 'string',
        enum: ['ebu_r128', 'rms'],
        description: 'How the input loudness was measured: EBU R128 integrated loudness, or the RMS level for clips under 0.4 s.',
      },
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
    const out = encodeTo(format, ctx.workDir, { like: params.format === 'original' ? audio : undefined, source: audio, sampleRate: audio.sampleRate });
    const encode = (filter: string, range: [number, number], onStderr?: (line: string) => void) =>
      runOnInput(ctx, audio, { outputOptions: ['-af', filter, ...out.outputOptions], output: out.path, durationSeconds: audio.durationSeconds, onStderr }, range);
    const file = { type: 'file' as const, path: out.path, mimeType: out.mimeType, extension: out.extension };

    if (params.mode === 'gain') {
      await encode(`volume=${params.gain_db}dB`, [0, 1]);
      return { ...file, data: { mode: 'gain', gain_db: params.gain_db, format } };
    }

    // Pass one measures (EBU R128); pass two applies one linear gain, or where that gain would
    // push the true peak over its limit, loudnorm's dynamic mode seeded with the measurement.
    const measure = measurementCollector();
    await runOnInput(
      ctx,
      audio,
      { outputOptions: ['-map', '0:a:0', '-af', MEASURE_FILTERS, '-f', 'null'], output: null, durationSeconds: audio.durationSeconds, onStderr: measure.collect },
      [0, 0.5],
    );
    const m = measure.result();
    const input = loudnessOf(m, audio.channels);
    if (!input || m.truePeakDbtp === null) throw new ActionError(INVALID_INPUT, 'the audio is silent: there is no loudness to normalize');
    const wanted = params.target_lufs - input.lufs;
    const headroom = params.true_peak - m.truePeakDbtp;
    const base = { mode: 'normalize', input_lufs: input.lufs, input_true_peak: m.truePeakDbtp, measurement: input.method, format };
    // A clip too short for R128 has no gated measure for loudnorm: its gain is only capped.
    if (wanted <= headroom || m.integratedLufs === null || m.thresholdLufs === null || m.loudnessRangeLu === null) {
      const gain = round(Math.min(wanted, headroom), 2);
      await encode(`volume=${gain}dB`, [0.5, 1]);
      return { ...file, data: { ...base, gain_db: gain, output_lufs: round(input.lufs + gain, 1), output_true_peak: round(m.truePeakDbtp + gain, 1) } };
    }
    const target = `I=${params.target_lufs}:TP=${params.true_peak}:LRA=${LRA}`;
    const applied = loudnormCollector();
    await encode(
      `loudnorm=${target}:measured_I=${m.integratedLufs}:measured_TP=${m.truePeakDbtp}:measured_LRA=${m.loudnessRangeLu}:measured_thresh=${m.thresholdLufs}:print_format=json`,
      [0.5, 1],
      applied.collect,
    );
    const result = applied.result();
    return { ...file, data: { ...base, output_lufs: result.output_i, output_true_peak: result.output_tp } };
  },
});
