// Every format that GET /supported-formats lists is accepted by the upload and read by an action of
// its media type; formats we recognise but cannot read are refused naming the detected type.
// Samples are made at test time with ffmpeg and sharp, in the shapes other tools write them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { startHarness, waitFor, type Harness } from './support/harness.js';

let h: Harness;
const dir = mkdtempSync(join(tmpdir(), 'mf-formats-'));
beforeAll(async () => {
  h = await startHarness({ worker: true, env: { MAX_AUDIO_DURATION_MINUTES: '1', MAX_IMAGE_RESOLUTION: '4096' } });
});
afterAll(async () => {
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const json = async (res: Response) => (await res.json()) as Record<string, any>;

function ffmpeg(name: string, args: string[]): Buffer {
  const out = join(dir, name);
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', ...args, out]);
  return readFileSync(out);
}
const av = (seconds: number) => ['-f', 'lavfi', '-i', `testsrc=size=160x120:rate=10:duration=${seconds}`, '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`];
const audioOnly = (seconds: number) => ['-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`];

async function run(mediaId: string, actionId: string, parameters: Record<string, unknown> = {}) {
  const submitted = await h.post('/api/v1/process', { media_id: mediaId, action_id: actionId, parameters });
  expect(submitted.status).toBe(202);
  const { id } = await json(submitted);
  return waitFor(async () => {
    const job = await json(await h.fetch(`/api/v1/jobs/${id}`));
    return ['completed', 'failed'].includes(job.status) ? job : undefined;
  });
}

test('GET /supported-formats lists the accepted formats with their limits', async () => {
  const res = await h.as({}).fetch('/api/v1/supported-formats');
  expect(res.status).toBe(200);
  const body = await json(res);
  const names = (list: { format: string }[]) => list.map((f) => f.format);
  expect(names(body.image.formats)).toEqual(expect.arrayContaining(['jpeg', 'png', 'webp', 'gif', 'tiff', 'bmp', 'avif']));
  expect(names(body.audio.formats)).toEqual(expect.arrayContaining(['mp3', 'wav', 'flac', 'ogg', 'm4a', 'webm', 'mp4', 'mov']));
  expect(body.image.max_resolution).toBe(h.config.media.image.maxResolution);
  expect(body.audio.max_duration_minutes).toBe(h.config.media.audio.maxDurationMinutes);
});

test.each([
  ['a TIFF whose directory is at the end (libtiff)', 'scan.tif', 'image/tiff', () => sharp({ create: { width: 900, height: 700, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).tiff().toBuffer()],
  ['an animated PNG', 'anim.png', 'image/png', async () => ffmpeg('anim.apng', ['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=5:duration=1', '-plays', '0', '-f', 'apng'])],
  ['a 24-bit BMP', 'paint.bmp', 'image/bmp', async () => ffmpeg('paint.bmp', ['-f', 'lavfi', '-i', 'testsrc=size=300x200', '-frames:v', '1', '-pix_fmt', 'bgr24'])],
  ['an 8-bit palette BMP', 'icon.bmp', 'image/bmp', async () => ffmpeg('icon.bmp', ['-f', 'lavfi', '-i', 'testsrc=size=64x64', '-frames:v', '1', '-pix_fmt', 'pal8'])],
])('%s uploads, resizes and has a thumbnail', async (_what, filename, mimeType, make) => {
  const bytes = await make();
  const up = await h.upload(bytes, filename);
  expect(up.status).toBe(201);
  const media = await json(up);
  expect(media).toMatchObject({ media_type: 'image', mime_type: mimeType });
  const job = await run(media.id, 'img_resize', { width: 40, format: 'png' });
  expect(job.status).toBe('completed');
  const out = await sharp(Buffer.from(await (await h.fetch(`/api/v1/jobs/${job.id}/result`)).arrayBuffer())).metadata();
  expect(out.width).toBe(40);
  const thumb = await h.fetch(`/api/v1/media/${media.id}/thumbnail`);
  expect(thumb.status).toBe(200);
});

test.each([
  ['AAC in an mp42-branded .m4a (what ffmpeg writes)', 'voice.m4a', 'audio/mp4', () => ffmpeg('voice.m4a', [...audioOnly(2), '-c:a', 'aac', '-brand', 'mp42'])],
  ['an isom-branded .m4b audiobook', 'book.m4b', 'audio/mp4', () => ffmpeg('book.mp4', [...audioOnly(2), '-c:a', 'aac'])],
  ['a 3g2 voice memo', 'memo.3g2', 'audio/mp4', () => ffmpeg('memo.3g2', [...audioOnly(2), '-c:a', 'aac', '-ar', '16000', '-f', '3g2'])],
  ['the sound of an MP4 video', 'meeting.mp4', 'video/mp4', () => ffmpeg('meeting.mp4', [...av(2), '-c:v', 'mpeg4', '-c:a', 'aac', '-shortest'])],
  ['the sound of a Matroska video', 'call.mkv', 'video/x-matroska', () => ffmpeg('call.mkv', [...av(2), '-c:v', 'mpeg4', '-c:a', 'libopus', '-shortest'])],
])('%s uploads as audio and converts', async (_what, filename, mimeType, make) => {
  const up = await h.upload(make(), filename);
  expect(up.status).toBe(201);
  const media = await json(up);
  expect(media).toMatchObject({ media_type: 'audio', mime_type: mimeType });
  const job = await run(media.id, 'aud_format_convert', { format: 'wav' });
  expect(job.status).toBe('completed');
  const res = await h.fetch(`/api/v1/jobs/${job.id}/result`);
  expect(res.headers.get('content-type')).toMatch(/^audio\/wav/);
  const wav = Buffer.from(await res.arrayBuffer());
  expect(wav.subarray(0, 4).toString()).toBe('RIFF');
});

test('a HEIC photo is refused naming the type and what to do instead', async () => {
  // The leading boxes of an iPhone photo: `ftyp` with the `heic` brand, then `meta`.
  const heic = Buffer.concat([Buffer.from('00000018667479706865696300000000', 'hex'), Buffer.from('mif1heic'), Buffer.alloc(4096, 0)]);
  const res = await h.upload(heic, 'IMG_0001.HEIC');
  expect(res.status).toBe(400);
  const { error } = await json(res);
  expect(error.code).toBe('INVALID_FILE_TYPE');
  expect(error.details.detected).toBe('heic');
  expect(error.message).toMatch(/JPEG/);
  expect(error.details.supported).toEqual(expect.arrayContaining(['jpeg', 'mp3']));
});

test('an unrecognised file is refused with the supported list', async () => {
  const res = await h.upload(Buffer.from('just some text, not media at all\n'.repeat(200)), 'notes.txt');
  expect(res.status).toBe(400);
  const { error } = await json(res);
  expect(error.code).toBe('INVALID_FILE_TYPE');
  expect(error.message).toMatch(/Supported: jpeg, png/);
});

describe('limits at the door', () => {
  test('an image over max_resolution is refused at upload, naming the limit and its size', async () => {
    const wide = await sharp({ create: { width: 5000, height: 20, channels: 3, background: '#fff' } }).png().toBuffer();
    const res = await h.upload(wide, 'banner.png');
    expect(res.status).toBe(400);
    const { error } = await json(res);
    expect(error).toMatchObject({ code: 'VALIDATION_ERROR', details: { limit: 'max_resolution', max: 4096, actual: '5000x20' } });
    expect(error.message).toMatch(/5000x20/);
  });

  test('audio over max_duration_minutes is refused at upload', async () => {
    const long = ffmpeg('long.mp3', [...audioOnly(65), '-c:a', 'libmp3lame', '-b:a', '32k']);
    const res = await h.upload(long, 'lecture.mp3');
    expect(res.status).toBe(400);
    const { error } = await json(res);
    expect(error).toMatchObject({ code: 'VALIDATION_ERROR', details: { limit: 'max_duration_minutes', max: 1 } });
  });

  test('the duration is measured, not taken from a header: VBR MP3 without a Xing header', async () => {
    // Loud noise then silence: a duration estimated from the first frames' bit rate is far off.
    const vbr = ffmpeg('vbr.mp3', ['-f', 'lavfi', '-i', 'anoisesrc=d=4:a=0.5', '-f', 'lavfi', '-i', 'anullsrc=r=44100:cl=mono:d=12', '-filter_complex', '[0][1]concat=n=2:v=0:a=1', '-ac', '1', '-c:a', 'libmp3lame', '-q:a', '7', '-write_xing', '0']);
    const res = await h.upload(vbr, 'vbr.mp3');
    expect(res.status).toBe(201);
    const media = await json(res);
    expect(media.metadata.duration_seconds).toBeGreaterThan(15.8);
    expect(media.metadata.duration_seconds).toBeLessThan(16.2);
    expect(media.metadata).toMatchObject({ codec: 'mp3', channels: 1 });
  });

  test('the duration is measured: a WAV header claiming hours', async () => {
    const wav = Buffer.from(ffmpeg('short.wav', [...audioOnly(3)]));
    const data = wav.indexOf('data');
    wav.writeUInt32LE(0xfffffff0, 4);
    wav.writeUInt32LE(0xffffff00, data + 4);
    const res = await h.upload(wav, 'liar.wav');
    expect(res.status).toBe(201);
    const media = await json(res);
    expect(media.metadata.duration_seconds).toBeCloseTo(3, 1);
  });

  test('image metadata is recorded at upload', async () => {
    const photo = await sharp({ create: { width: 640, height: 360, channels: 4, background: '#336699aa' } }).png().toBuffer();
    const media = await json(await h.upload(photo, 'alpha.png'));
    expect(media.metadata).toMatchObject({ width: 640, height: 360, frames: 1, format: 'png', has_alpha: true });
  });

  test('a video without sound is refused as an audio source', async () => {
    const silent = ffmpeg('silent.mp4', ['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10:duration=1', '-c:v', 'mpeg4']);
    const res = await h.upload(silent, 'screen.mp4');
    expect(res.status).toBe(400);
    const { error } = await json(res);
    expect(error.message).toMatch(/no audio stream/);
  });
});
