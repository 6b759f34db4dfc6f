import type { EnvReader } from './reader.js';

/** The ffmpeg and ffprobe binaries (FFMPEG_PATH, FFPROBE_PATH): a path, or a name looked up on `searchPath`. */
export interface FfmpegConfig {
  ffmpegPath: string;
  ffprobePath: string;
  /** Where names without a slash are looked up (PATH). */
  searchPath: string;
}

export interface MediaConfig {
  image: { maxFileSizeBytes: number; maxResolution: number; thumbnail: { width: number; height: number; quality: number } };
  audio: { maxFileSizeBytes: number; maxDurationMinutes: number };
  /** Largest voice sample a speaker profile takes (SPEAKER_SAMPLE_MAX_MB). */
  speakerSampleMaxBytes: number;
  retentionDays: number;
  ffmpeg: FfmpegConfig;
}

/** actions.enabled of the product config: undefined means every discovered action. */
export interface ActionsConfig {
  enabled?: string[];
}

export function readMedia(r: EnvReader): MediaConfig {
  const mb = { unit: 'MiB', min: '1' } as const;
  // MAX_FILE_SIZE_MB: the older name of MAX_IMAGE_FILE_SIZE_MB, its default.
  const legacyImageMax = r.size('MAX_FILE_SIZE_MB', '50', mb);
  return {
    image: {
      maxFileSizeBytes: r.size('MAX_IMAGE_FILE_SIZE_MB', `${legacyImageMax}B`, mb),
      maxResolution: r.int('MAX_IMAGE_RESOLUTION', 8192, { min: 1 }),
      thumbnail: {
        width: r.int('THUMBNAIL_WIDTH', 200, { min: 16, max: 2048 }),
        height: r.int('THUMBNAIL_HEIGHT', 200, { min: 16, max: 2048 }),
        quality: r.int('THUMBNAIL_QUALITY', 80, { min: 1, max: 100 }),
      },
    },
    audio: {
      maxFileSizeBytes: r.size('MAX_AUDIO_FILE_SIZE_MB', '100', mb),
      maxDurationMinutes: r.duration('MAX_AUDIO_DURATION_MINUTES', '60m', { unit: 'm', min: '1m' }),
    },
    speakerSampleMaxBytes: r.size('SPEAKER_SAMPLE_MAX_MB', '10', { unit: 'MiB', min: '1', max: '100' }),
    retentionDays: r.duration('DEFAULT_RETENTION_DAYS', '30d', { unit: 'd', min: '1d' }),
    ffmpeg: {
      ffmpegPath: r.string('FFMPEG_PATH', 'ffmpeg'),
      ffprobePath: r.string('FFPROBE_PATH', 'ffprobe'),
      searchPath: r.string('PATH', ''),
    },
  };
}

export function readActions(r: EnvReader): ActionsConfig {
  return { enabled: r.optionalList('ACTIONS_ENABLED') };
}
