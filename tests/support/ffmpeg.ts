import { createFfmpeg, type FfmpegOptions } from '#domain/media/ffmpeg.js';

/** What the default configuration gives (FFMPEG_PATH, FFPROBE_PATH unset: looked up on this process's PATH). */
export const testFfmpegOptions: FfmpegOptions = { ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', searchPath: process.env.PATH ?? '' };

/** ffmpeg and ffprobe for action contexts in tests. */
export const testFfmpeg = createFfmpeg(testFfmpegOptions);
