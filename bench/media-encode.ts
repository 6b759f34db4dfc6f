// Encoder effort by size and loudness measurement: the time of what the actions now do against
// what they did (the encoders' default effort; ffmpeg's loudnorm), in the same run, as ratios.
// `npm run bench:media` — about 5 minutes on 2 cores: the baselines are the slow part.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { effortFor } from '#domain/media/sharp-io.js';
import { MEASURE_FILTERS } from '#domain/actions/audio/audio-io.js';

const exec = promisify(execFile);
const seconds = async (fn: () => Promise<unknown>) => {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
};

const dir = await mkdtemp(join(tmpdir(), 'mf-bench-media-'));
try {
  for (const [name, width, height] of [['12 MP', 4000, 3000], ['48 MP', 8000, 6000]] as const) {
    // Photo-like content (smooth noise) as a camera JPEG: what encoders work hardest on.
    const photo = await sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 30 } } })
      .blur(2)
      .jpeg({ quality: 90 })
      .toBuffer();
    const effort = effortFor('avif', width * height);
    const now = await seconds(() => sharp(photo).avif({ quality: 80, effort }).toBuffer());
    const before = await seconds(() => sharp(photo).avif({ quality: 80 }).toBuffer());
    console.log(`AVIF ${name}: effort ${effort} ${now.toFixed(1)} s, default effort 4 ${before.toFixed(1)} s, ratio ${(before / now).toFixed(1)}x`);
  }
  // Ten minutes of stereo MP3: ebur128 (with the RMS level) against loudnorm's measuring pass.
  const mp3 = join(dir, 'long.mp3');
  await exec('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'anoisesrc=d=600:a=0.3:c=pink', '-ac', '2', '-ar', '44100', '-b:a', '128k', mp3]);
  const measure = (filter: string) => seconds(() => exec('ffmpeg', ['-nostats', '-i', mp3, '-af', filter, '-f', 'null', '-']));
  const now = await measure(MEASURE_FILTERS);
  const before = await measure('loudnorm=print_format=json');
  console.log(`loudness of 10 min: ebur128 ${now.toFixed(1)} s, loudnorm ${before.toFixed(1)} s, ratio ${(before / now).toFixed(1)}x`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
