import { parseFile, type ICommonTagsResult } from 'music-metadata';
import { defineAction, INVALID_INPUT } from '../../types.js';
import type { FromSchema, ParametersSchema } from '../../from-schema.js';
import { AUDIO_RETRY, AUDIO_TIMEOUTS, MEASURE_FILTERS, measurementCollector, openAudio, round, runOnInput } from '../audio-io.js';

// A pathological file (silence toggling every half second for an hour) must not make a huge result.
const MAX_SEGMENTS = 1000;

const parameters = {
  type: 'object',
  additionalProperties: false,
  properties: {
    silence_threshold_db: { type: 'number', minimum: -100, maximum: 0, default: -50, description: 'Level below which audio counts as silence, in dBFS.' },
    min_silence_duration: { type: 'number', minimum: 0.01, maximum: 3600, default: 0.5, description: 'Shortest stretch reported as silence, in seconds.' },
  },
} as const satisfies ParametersSchema;

export type AnalyzeParams = FromSchema<typeof parameters>;

export default defineAction({
  actionId: 'aud_analyze',
  displayName: 'Analyze audio',
  buttonLabel: 'Analyze',
  description: 'Reports duration, codec, bit rate, sample rate, channels, loudness (EBU R128), true peak, silent stretches and tags.',
  icon: 'activity',
  mediaType: 'audio',
  priceTier: 'process',
  resultType: 'json',
  parametersSchema: parameters,
  outputSchema: {
    type: 'object',
    properties: {
      duration_seconds: { type: 'number' },
      container: { type: 'string' },
      codec: { type: 'string' },
      bitrate: { type: ['integer', 'null'], description: 'Overall bit rate, bits per second.' },
      sample_rate: { type: 'integer' },
      channels: { type: 'integer' },
      channel_layout: { type: ['string', 'null'] },
      loudness: {
        type: 'object',
        properties: {
          integrated_lufs: { type: ['number', 'null'], description: 'EBU R128 integrated loudness; null for silence and for clips under 0.4 s.' },
          true_peak_dbtp: { type: ['number', 'null'] },
          loudness_range_lu: { type: ['number', 'null'] },
          rms_dbfs: { type: ['number', 'null'], description: 'Overall RMS level; null for digital silence.' },
        },
      },
      silence: {
        type: 'object',
        properties: {
          segments: { type: 'array', items: { type: 'object', properties: { start: { type: 'number' }, end: { type: 'number' }, duration: { type: 'number' } } } },
          total_seconds: { type: 'number' },
        },
      },
      tags: { type: 'object', additionalProperties: true },
    },
  },
  timeouts: AUDIO_TIMEOUTS,
  retry: AUDIO_RETRY,
  nonRetryableErrors: [INVALID_INPUT],
  async run(ctx) {
    const { params } = ctx;
    const audio = await openAudio(ctx);
    const loudness = measurementCollector();
    const silence = silenceCollector();
    // silencedetect passes the audio through untouched, so ebur128 measures the original.
    const filter = `silencedetect=noise=${params.silence_threshold_db}dB:d=${params.min_silence_duration},${MEASURE_FILTERS}`;
    const { processedSeconds } = await runOnInput(ctx, audio, {
      outputOptions: ['-map', '0:a:0', '-af', filter, '-f', 'null'],
      output: null,
      durationSeconds: audio.durationSeconds,
      onStderr: (line) => {
        loudness.collect(line);
        silence.collect(line);
      },
    });
    const l = loudness.result();
    // What was decoded, when it is more than the header said: a chained Ogg's header gives only its
    // last part's length, yet every part is decoded and measured.
    const duration = Math.max(audio.durationSeconds, processedSeconds);
    return {
      type: 'json',
      data: {
        duration_seconds: round(duration),
        container: audio.container,
        codec: audio.codec,
        bitrate: audio.bitRate ?? null,
        sample_rate: audio.sampleRate,
        channels: audio.channels,
        channel_layout: audio.channelLayout ?? null,
        loudness: { integrated_lufs: l.integratedLufs, true_peak_dbtp: l.truePeakDbtp, loudness_range_lu: l.loudnessRangeLu, rms_dbfs: l.rmsDbfs },
        silence: silence.result(duration),
        tags: await readTags(ctx.inputPath, ctx.logger),
      },
    };
  },
});

function silenceCollector() {
  const segments: { start: number; end: number }[] = [];
  let open: number | undefined;
  return {
    collect(line: string) {
      if (!line.includes('silencedetect')) return;
      const start = /silence_start: (-?[\d.]+)/.exec(line);
      if (start) open = Math.max(0, Number(start[1]));
      const end = /silence_end: ([\d.]+)/.exec(line);
      if (end && open !== undefined) {
        segments.push({ start: open, end: Number(end[1]) });
        open = undefined;
      }
    },
    /** A silence still open at the end of the file ends with it. */
    result(duration: number) {
      if (open !== undefined && open < duration) segments.push({ start: open, end: duration });
      open = undefined;
      const total = segments.reduce((sum, s) => sum + (s.end - s.start), 0);
      return {
        segments: segments.slice(0, MAX_SEGMENTS).map((s) => ({ start: round(s.start), end: round(s.end), duration: round(s.end - s.start) })),
        total_seconds: round(total),
      };
    },
  };
}

/** Tags are a bonus: a file whose tags cannot be parsed still gets its analysis. */
async function readTags(path: string, logger: { warn(obj: object, msg: string): void }): Promise<Record<string, unknown>> {
  try {
    const { common } = await parseFile(path, { duration: false, skipCovers: true });
    return pickTags(common);
  } catch (err) {
    logger.warn({ err }, 'could not read audio tags');
    return {};
  }
}

function pickTags(c: ICommonTagsResult): Record<string, unknown> {
  const tags: Record<string, unknown> = {
    title: c.title,
    artist: c.artist,
    album: c.album,
    album_artist: c.albumartist,
    year: c.year,
    genre: c.genre?.length ? c.genre.join(', ') : undefined,
    track: c.track.no ?? undefined,
    disc: c.disk.no ?? undefined,
    composer: c.composer?.length ? c.composer.join(', ') : undefined,
    comment: c.comment?.map((x) => x.text).filter(Boolean).join('\n') || undefined,
  };
  return Object.fromEntries(Object.entries(tags).filter(([, v]) => v !== undefined && v !== ''));
}
