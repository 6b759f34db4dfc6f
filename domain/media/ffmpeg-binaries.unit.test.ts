import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '#lib/config.js';
import { createFfmpeg } from './ffmpeg.js';

// The binaries come from configuration (FFMPEG_PATH, FFPROBE_PATH, looked up in the environment's
// PATH), never from a module-level instance: what the config names is what runs.
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mf-ffmpeg-bin-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const PROBE = JSON.stringify({
  format: { format_name: 'wav', duration: '2.5' },
  streams: [{ codec_type: 'audio', codec_name: 'pcm_s16le', sample_rate: '8000', channels: 1 }],
});

test('a bare FFPROBE_PATH is looked up in the configured PATH, a path with a slash used as it is', async () => {
  const bin = join(dir, 'bin');
  await mkdir(bin);
  const fake = join(bin, 'my-ffprobe');
  await writeFile(fake, `#!/bin/sh\necho '${PROBE}'\n`);
  await chmod(fake, 0o755);

  const byName = createFfmpeg(loadConfig({ FFPROBE_PATH: 'my-ffprobe', PATH: bin }).media.ffmpeg);
  expect(await byName.probe('/dev/null')).toMatchObject({ container: 'wav', durationSeconds: 2.5, sampleRate: 8000, channels: 1 });
  const byPath = createFfmpeg(loadConfig({ FFPROBE_PATH: fake, PATH: '' }).media.ffmpeg);
  expect((await byPath.probe('/dev/null')).codec).toBe('pcm_s16le');

  // Not on the configured PATH: an infrastructure error naming what was looked for.
  const elsewhere = createFfmpeg(loadConfig({ FFPROBE_PATH: 'my-ffprobe', FFMPEG_PATH: 'my-ffmpeg', PATH: dir }).media.ffmpeg);
  await expect(elsewhere.probe('/dev/null')).rejects.toThrow('ffprobe is not installed (looked for my-ffprobe)');
  await expect(elsewhere.run({ input: '/dev/null', outputOptions: [], output: null })).rejects.toThrow('ffmpeg is not installed (looked for my-ffmpeg)');
});
