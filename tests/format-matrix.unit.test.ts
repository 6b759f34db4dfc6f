// Every format the upload accepts (the one table GET /supported-formats lists) goes through every
// action of its media type: a sample is made at test time with ffmpeg or sharp, detected from its
// bytes the way an upload is, and each action must succeed with a result that decodes (file results)
// or matches the action's output schema (JSON results). AI providers are the fake server.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp, { type Sharp } from 'sharp';
import { loadActionRegistry, type ActionRegistry } from '#domain/actions/registry.js';
import type { ActionDefinition, MediaKind } from '#domain/actions/types.js';
import { detectMediaType, FORMATS, SNIFF_BYTES } from '#domain/media/media-types.js';
import { actionRunner, type ActionRunner } from './support/action-run.js';
import { startFakeAiServer, type FakeAiServer } from './support/fake-ai-server.js';

const exec = promisify(execFile);

let dir: string;
let fake: FakeAiServer;
let registry: ActionRegistry;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mf-matrix-'));
  fake = await startFakeAiServer();
  registry = await loadActionRegistry();
});
afterAll(async () => {
  await Promise.all([...runners.values()].map((r) => r.cleanup()));
  await fake?.close();
  await rm(dir, { recursive: true, force: true });
});

async function ffmpeg(name: string, args: string[]): Promise<string> {
  const path = join(dir, name);
  await exec('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args, path]);
  return path;
}

const picture = () => sharp({ create: { width: 96, height: 64, channels: 3, background: '#3366aa' } }).composite([
  { input: { create: { width: 40, height: 30, channels: 3, background: '#ffcc00' } }, left: 10, top: 10 },
]);
async function sharpSample(name: string, encode: (s: Sharp) => Sharp): Promise<string> {
  const path = join(dir, name);
  await encode(picture()).toFile(path);
  return path;
}

const tone = ['-f', 'lavfi', '-i', 'sine=frequency=440:duration=2'];
const video = ['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10:duration=2', ...tone];

/** One sample per listed format, written the way common tools write it. */
const SAMPLES: Record<string, () => Promise<string>> = {
  jpeg: () => sharpSample('photo.jpg', (s) => s.jpeg()),
  png: () => sharpSample('image.png', (s) => s.png()),
  webp: () => sharpSample('image.webp', (s) => s.webp()),
  gif: () => sharpSample('image.gif', (s) => s.gif()),
  tiff: () => sharpSample('scan.tif', (s) => s.tiff()),
  bmp: () => ffmpeg('paint.bmp', ['-f', 'lavfi', '-i', 'testsrc=size=96x64', '-frames:v', '1', '-pix_fmt', 'bgr24']),
  avif: () => sharpSample('image.avif', (s) => s.avif()),
  mp3: () => ffmpeg('song.mp3', [...tone, '-c:a', 'libmp3lame', '-b:a', '128k']),
  wav: () => ffmpeg('take.wav', [...tone, '-c:a', 'pcm_s24le']),
  flac: () => ffmpeg('master.flac', [...tone, '-c:a', 'flac']),
  ogg: () => ffmpeg('voice.ogg', [...tone, '-c:a', 'libvorbis']),
  m4a: () => ffmpeg('voice.m4a', [...tone, '-c:a', 'aac', '-f', 'ipod']),
  webm: () => ffmpeg('recording.webm', [...tone, '-c:a', 'libopus']),
  mp4: () => ffmpeg('meeting.mp4', [...video, '-c:v', 'mpeg4', '-c:a', 'aac', '-shortest']),
  mov: () => ffmpeg('clip.mov', [...video, '-c:v', 'mpeg4', '-c:a', 'aac', '-shortest']),
  '3gp': () => ffmpeg('memo.3gp', [...video, '-c:v', 'mpeg4', '-c:a', 'aac', '-ar', '16000', '-shortest', '-f', '3gp']),
  mkv: () => ffmpeg('call.mkv', [...video, '-c:v', 'mpeg4', '-c:a', 'libopus', '-shortest']),
};

/** The least each action needs; everything else takes its defaults. */
const PARAMETERS: Record<string, Record<string, unknown>> = {
  img_crop: { width: 32, height: 24, left: 4, top: 4 },
  img_format_convert: { format: 'webp' },
  img_resize: { width: 48 },
  aud_format_convert: { format: 'mp3' },
  aud_trim: { start: 0.5, end: 1.5 },
};

async function sniff(path: string) {
  const head = (await readFile(path)).subarray(0, SNIFF_BYTES);
  const detection = await detectMediaType(head);
  if (!detection.ok) throw new Error(`${path}: ${detection.reason}`);
  return detection.type;
}

async function checkFile(path: string, mimeType: string): Promise<void> {
  expect((await stat(path)).size).toBeGreaterThan(0);
  if (mimeType.startsWith('image/')) {
    const meta = await sharp(path).metadata();
    expect(meta.width).toBeGreaterThan(0);
  } else if (mimeType.startsWith('audio/')) {
    const { stdout } = await exec('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', path]);
    expect(Number(stdout)).toBeGreaterThan(0.5);
  }
}

const runners = new Map<string, ActionRunner>();

async function runAction(action: ActionDefinition, inputPath: string, inputMimeType: string): Promise<void> {
  let runner = runners.get(action.actionId);
  if (!runner) runners.set(action.actionId, (runner = actionRunner(action)));
  // JSON results are checked against the action's output schema by the runner.
  const out = await runner.run(inputPath, { ...(PARAMETERS[action.actionId] ?? {}) }, { mimeType: inputMimeType, env: fake.env });
  if (out.type === 'file') await checkFile(out.path, out.mimeType);
}

test('every listed format has a sample here', () => {
  expect(FORMATS.map((f) => f.format).sort()).toEqual(Object.keys(SAMPLES).sort());
});

describe.each(FORMATS.map((f) => [f.format, f.mediaType] as [string, MediaKind]))('%s (%s)', (format, mediaType) => {
  test('is detected as listed and goes through every action of its media type', async () => {
    const path = await SAMPLES[format]!();
    const type = await sniff(path);
    const entry = FORMATS.find((f) => f.format === format)!;
    expect(type).toMatchObject({ mediaType, mimeType: entry.mimeType });
    const actions = registry.list(mediaType);
    expect(actions.length).toBeGreaterThan(4);
    const failures: string[] = [];
    for (const action of actions) {
      fake.reset();
      await runAction(action, path, type.mimeType).catch((err: unknown) => failures.push(`${action.actionId}: ${(err as Error).message}`));
    }
    expect(failures).toEqual([]);
  });
});
