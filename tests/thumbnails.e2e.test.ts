// Thumbnails (§6.2): made by the worker when an image upload completes, once; stored; served from
// storage; a failure recorded and answered, not retried per request; 409 while still pending.
import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { MediaFileSchema } from '#entities/index.js';
import { keys } from '#lib/storage.js';
import { workflowIdForThumbnail } from '#workflows/thumbnail.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';
import { makeWav } from './support/wav.js';

const json = async (res: Response) => (await res.json()) as Record<string, any>;

async function upload(h: Harness, bytes: Buffer, name: string): Promise<Record<string, any>> {
  const res = await h.upload(bytes, name);
  expect(res.status).toBe(201);
  return json(res);
}

const row = (h: Harness, id: string) => h.common.orm.em.fork().findOneOrFail(MediaFileSchema, { id });
const settled = (h: Harness, id: string) =>
  waitFor(async () => {
    const r = await row(h, id);
    return r.thumbnailStatus === 'pending' ? undefined : r;
  });

describe('with a worker', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ worker: true });
  });
  afterAll(async () => {
    await h?.stop();
  });

  test('made when the upload completes, before anyone asks, and served from storage alone', async () => {
    const media = await upload(h, await makeJpeg(640, 480), 'wide.jpg');
    expect(media.thumbnail_status).toBe('pending');
    // Nobody has asked for it: the worker made it because the upload completed.
    const made = await settled(h, media.id);
    expect(made.thumbnailStatus).toBe('ready');
    const key = keys.thumbnail(made.organization.id, media.id);
    expect(made.thumbnailPath).toBe(key);
    const stored = await h.common.storage.stat(key);
    expect(stored).toMatchObject({ contentType: 'image/jpeg' });
    expect((await json(await h.fetch(`/api/v1/media/${media.id}`))).thumbnail_status).toBe('ready');

    // Without the original, the request is still answered: it reads only the stored thumbnail.
    await h.common.storage.remove(made.storagePath);
    const res = await h.fetch(`/api/v1/media/${media.id}/thumbnail`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(Number(res.headers.get('content-length'))).toBe(bytes.length);
    expect(bytes.length).toBe(stored!.size);
    const meta = await sharp(bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 200, 150]);
  });

  test('small, tall and transparent images: never enlarged, upright, flattened', async () => {
    const thumbOf = async (bytes: Buffer, name: string) => {
      const media = await upload(h, bytes, name);
      const res = await h.fetch(`/api/v1/media/${media.id}/thumbnail`);
      expect(res.status).toBe(200);
      return sharp(Buffer.from(await res.arrayBuffer()));
    };
    const small = await (await thumbOf(await makeJpeg(120, 90), 'small.jpg')).metadata();
    expect([small.width, small.height]).toEqual([120, 90]);
    const rotated = await sharp(await makeJpeg(600, 300)).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const tall = await (await thumbOf(rotated, 'tall.jpg')).metadata();
    expect([tall.width, tall.height]).toEqual([100, 200]);
    const png = await sharp({ create: { width: 400, height: 400, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
    const { data } = await (await thumbOf(png, 'clear.png')).raw().toBuffer({ resolveWithObject: true });
    expect(Math.min(...data)).toBeGreaterThan(245);
  });

  test('an image that does not decode: failed once, recorded with the reason, and not tried again', async () => {
    const jpeg = await makeJpeg(320, 240);
    // Cut short in its pixel data: the header passes the upload's inspection, the pixels do not decode.
    const sos = jpeg.indexOf(Buffer.from([0xff, 0xda]));
    const corrupt = await upload(h, jpeg.subarray(0, sos + 40), 'broken.jpg');
    const failed = await settled(h, corrupt.id);
    expect(failed).toMatchObject({ thumbnailStatus: 'failed', thumbnailPath: null });
    expect(failed.thumbnailError).toMatch(/cannot decode image/);
    expect(failed.thumbnailError).not.toMatch(/\/tmp\//);
    // The run's activity writes the record; the run itself closes one workflow task later.
    const handle = h.temporal.workflow.getHandle(workflowIdForThumbnail(corrupt.id));
    await handle.result();
    const run = await handle.describe();
    expect(run.status.name).toBe('COMPLETED');

    for (let i = 0; i < 2; i++) {
      const res = await h.fetch(`/api/v1/media/${corrupt.id}/thumbnail`);
      expect(res.status).toBe(404);
      expect((await json(res)).error).toMatchObject({
        code: 'NOT_FOUND',
        details: { thumbnail_status: 'failed', reason: failed.thumbnailError },
      });
    }
    // No second run, and the record is as the worker left it.
    const again = await h.temporal.workflow.getHandle(workflowIdForThumbnail(corrupt.id)).describe();
    expect(again.runId).toBe(run.runId);
    expect((await row(h, corrupt.id)).updatedAt).toEqual(failed.updatedAt);
    expect((await json(await h.fetch(`/api/v1/media/${corrupt.id}`))).thumbnail_status).toBe('failed');
  });

  test('an image stored before thumbnails were made at upload gets one on first request', async () => {
    const media = await upload(h, await makeJpeg(300, 300), 'old.jpg');
    const original = await settled(h, media.id);
    // A row as the platform recorded images before: no thumbnail status, no thumbnail.
    const em = h.common.orm.em.fork();
    const legacy = em.create(MediaFileSchema, {
      id: randomUUID(),
      organization: original.organization.id,
      originalFilename: 'old.jpg',
      storedFilename: 'original',
      mimeType: original.mimeType,
      mediaType: 'image',
      fileSizeBytes: original.fileSizeBytes,
      storagePath: original.storagePath,
      checksumMd5: original.checksumMd5,
      checksumSha256: original.checksumSha256,
      status: 'ready',
      thumbnailStatus: null,
      expiresAt: original.expiresAt,
    });
    await em.flush();
    const res = await h.fetch(`/api/v1/media/${legacy.id}/thumbnail`);
    expect(res.status).toBe(200);
    expect((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).width).toBe(200);
    expect(await row(h, legacy.id)).toMatchObject({ thumbnailStatus: 'ready', thumbnailPath: keys.thumbnail(original.organization.id, legacy.id) });
  });

  test('audio has no thumbnail, nor a thumbnail status; unknown media is 404', async () => {
    const audio = await upload(h, await makeWav(1), 'tone.wav');
    expect(audio.media_type).toBe('audio');
    expect(audio).not.toHaveProperty('thumbnail_status');
    const none = await h.fetch(`/api/v1/media/${audio.id}/thumbnail`);
    expect(none.status).toBe(404);
    expect((await json(none)).error).toMatchObject({ code: 'NOT_FOUND', message: 'Thumbnail not found' });
    expect((await row(h, audio.id)).thumbnailStatus).toBeNull();
    expect((await h.fetch(`/api/v1/media/${randomUUID()}/thumbnail`)).status).toBe(404);
  });
});

describe('while no worker has made it yet', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  test('409 with Retry-After, in the error format; its workflow is started, once', async () => {
    const media = await upload(h, await makeJpeg(320, 240), 'waiting.jpg');
    const res = await h.fetch(`/api/v1/media/${media.id}/thumbnail`);
    expect(res.status).toBe(409);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await json(res)).error).toMatchObject({ code: 'CONFLICT', details: { thumbnail_status: 'pending' } });
    const run = await h.temporal.workflow.getHandle(workflowIdForThumbnail(media.id)).describe();
    expect(run.status.name).toBe('RUNNING');
    expect(run.taskQueue).toBe(h.config.temporal.taskQueue);
    expect((await row(h, media.id)).thumbnailStatus).toBe('pending');
  });
});
