// Presigned uploads: the client writes straight to MinIO with a real HTTP client, then completes;
// the object is verified against the declaration and becomes an ordinary media file.
import { createHash } from 'node:crypto';
import { createDirectUploadStorage, incomingKey } from '#lib/direct-upload-storage.js';
import { keys } from '#lib/storage.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';
import { rawBucket } from './support/s3.js';
import { makeWav } from './support/wav.js';

let h: Harness;
let jpeg: Buffer;
beforeAll(async () => {
  h = await startHarness({ worker: true });
  jpeg = await makeJpeg(96, 64);
});
afterAll(async () => {
  await h?.stop();
});

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const json = async (res: Response) => (await res.json()) as Record<string, any>;
const incoming = () => createDirectUploadStorage(h.config.s3, h.config.intake.s3PublicEndpoint);

interface Presigned {
  id: string;
  method: 'PUT' | 'POST';
  url: string;
  fields: Record<string, string>;
  complete_url: string;
}

async function presign(body: Record<string, unknown>): Promise<Presigned> {
  const res = await h.post('/api/v1/media/presign', body);
  const out = await json(res);
  expect({ status: res.status, out }).toMatchObject({ status: 201 });
  return out as Presigned;
}

async function putTo(p: Presigned, bytes: Buffer): Promise<Response> {
  return fetch(p.url, { method: 'PUT', body: new Uint8Array(bytes) });
}

async function postTo(p: Presigned, bytes: Buffer): Promise<Response> {
  const form = new FormData();
  for (const [k, v] of Object.entries(p.fields)) form.append(k, v);
  form.append('file', new Blob([new Uint8Array(bytes)]), 'upload.bin');
  return fetch(p.url, { method: 'POST', body: form });
}

const complete = (id: string) => h.fetch(`/api/v1/media/${id}/complete`, { method: 'POST' });

async function expectNothingKept(p: Presigned) {
  expect(await incoming().size(incomingKey(h.tenant.organizationId, p.id))).toBeNull();
  expect(await h.common.storage.stat(keys.original(h.tenant.organizationId, p.id))).toBeNull();
  expect((await h.fetch(`/api/v1/media/${p.id}`)).status).toBe(404);
}

async function runResize(mediaId: string) {
  const job = await json(await h.post('/api/v1/process', { media_id: mediaId, action_id: 'img_resize', parameters: { width: 16 } }));
  return waitFor(async () => {
    const j = await json(await h.fetch(`/api/v1/jobs/${job.id}`));
    return j.status === 'completed' || j.status === 'failed' ? j : undefined;
  });
}

test('PUT: upload to storage, complete, and the media file is usable by a job', async () => {
  const p = await presign({ filename: 'photo.jpg', size_bytes: jpeg.length, content_type: 'image/jpeg', sha256: sha256(jpeg) });
  expect(p).toMatchObject({ method: 'PUT', fields: {} });
  expect(p.url.startsWith(h.config.intake.s3PublicEndpoint.origin)).toBe(true);
  expect((await putTo(p, jpeg)).status).toBe(200);

  const res = await complete(p.id);
  const media = await json(res);
  expect(res.status).toBe(200);
  expect(media).toMatchObject({ id: p.id, media_type: 'image', mime_type: 'image/jpeg', file_size_bytes: jpeg.length, checksum_sha256: sha256(jpeg), original_filename: 'photo.jpg' });
  const download = await h.fetch(`/api/v1/media/${p.id}/download`);
  expect(Buffer.from(await download.arrayBuffer()).equals(jpeg)).toBe(true);
  // The temporary object is gone; completing again answers the same media file.
  expect(await incoming().size(incomingKey(h.tenant.organizationId, p.id))).toBeNull();
  const again = await complete(p.id);
  expect(again.status).toBe(200);
  expect((await json(again)).id).toBe(p.id);

  expect((await runResize(p.id)).status).toBe('completed');
});

test('POST: a form upload with the policy fields, then complete', async () => {
  const wav = await makeWav(1);
  const p = await presign({ filename: 'tone.wav', size_bytes: wav.length, content_type: 'audio/wav', sha256: sha256(wav), method: 'POST' });
  expect(p.method).toBe('POST');
  expect(p.fields).toMatchObject({ key: incomingKey(h.tenant.organizationId, p.id) });
  const up = await postTo(p, wav);
  expect(up.status).toBeLessThan(300);
  const media = await json(await complete(p.id));
  expect(media).toMatchObject({ id: p.id, media_type: 'audio', checksum_sha256: sha256(wav), file_size_bytes: wav.length });
});

test('POST: the storage itself refuses a body of another size than declared', async () => {
  const p = await presign({ filename: 'photo.jpg', size_bytes: jpeg.length, content_type: 'image/jpeg', sha256: sha256(jpeg), method: 'POST' });
  const up = await postTo(p, Buffer.concat([jpeg, Buffer.alloc(10)]));
  expect(up.status).toBe(400);
  expect(await incoming().size(incomingKey(h.tenant.organizationId, p.id))).toBeNull();
});

test('PUT: the URL signs the declared length, so the storage refuses a larger or smaller body', async () => {
  const p = await presign({ filename: 'photo.jpg', size_bytes: jpeg.length, content_type: 'image/jpeg', sha256: sha256(jpeg) });
  expect(new URL(p.url).searchParams.get('X-Amz-SignedHeaders')?.split(';')).toContain('content-length');
  for (const body of [Buffer.concat([jpeg, Buffer.alloc(64 * 1024)]), jpeg.subarray(0, 100)]) {
    const up = await putTo(p, body);
    expect(up.status).toBe(403);
    expect(await incoming().size(incomingKey(h.tenant.organizationId, p.id))).toBeNull();
  }
  expect((await putTo(p, jpeg)).status).toBe(200);
  expect((await complete(p.id)).status).toBe(200);
});

test('completing before anything was uploaded is a 400 that leaves the upload open', async () => {
  const p = await presign({ filename: 'later.jpg', size_bytes: jpeg.length, content_type: 'image/jpeg', sha256: sha256(jpeg) });
  const early = await complete(p.id);
  expect(early.status).toBe(400);
  expect((await json(early)).error).toMatchObject({ code: 'VALIDATION_ERROR', details: { reason: 'object_missing' } });
  await putTo(p, jpeg);
  expect((await complete(p.id)).status).toBe(200);
});

describe('an object that does not match the declaration', () => {
  test.each([
    // A store that did not check the signed length: the object is refused (and removed) at completion.
    ['size', async () => ({ declared: { size_bytes: jpeg.length + 5, content_type: 'image/jpeg', sha256: sha256(jpeg) }, body: jpeg, code: 'VALIDATION_ERROR', reason: 'size_mismatch', direct: true })],
    ['checksum', async () => ({ declared: { size_bytes: jpeg.length, content_type: 'image/jpeg', sha256: sha256(Buffer.from('other')) }, body: jpeg, code: 'VALIDATION_ERROR', reason: 'checksum_mismatch' })],
    ['media type', async () => ({ declared: { size_bytes: jpeg.length, content_type: 'audio/wav', sha256: sha256(jpeg) }, body: jpeg, code: 'INVALID_FILE_TYPE', reason: 'type_mismatch' })],
    ['unsupported type', async () => {
      const text = Buffer.from('just some text, not an image at all\n'.repeat(20));
      return { declared: { size_bytes: text.length, content_type: 'image/png', sha256: sha256(text) }, body: text, code: 'INVALID_FILE_TYPE', reason: undefined };
    }],
  ])('%s: 400, the temporary object removed, nothing created, the upload failed for good', async (_name, make) => {
    const c = await make();
    const p = await presign({ filename: 'x.jpg', ...c.declared });
    if ('direct' in c) await rawBucket(h.config.s3).put(incomingKey(h.tenant.organizationId, p.id), c.body);
    else expect((await putTo(p, c.body)).status).toBe(200);
    const res = await complete(p.id);
    const body = await json(res);
    expect(res.status).toBe(400);
    expect(body.error.code).toBe(c.code);
    if (c.reason) expect(body.error.details.reason).toBe(c.reason);
    await expectNothingKept(p);
    const again = await complete(p.id);
    expect(again.status).toBe(409);
    expect((await json(again)).error.code).toBe('CONFLICT');
  });
});

test('bad declarations are refused before any URL is handed out', async () => {
  const over = await h.post('/api/v1/media/presign', { filename: 'big.jpg', size_bytes: h.config.media.image.maxFileSizeBytes + 1, content_type: 'image/jpeg', sha256: sha256(jpeg) });
  expect(over.status).toBe(400);
  expect((await json(over)).error.code).toBe('FILE_TOO_LARGE');
  for (const bad of [
    { filename: 'x.txt', size_bytes: 10, content_type: 'text/plain', sha256: sha256(jpeg) },
    { filename: 'x.jpg', size_bytes: 10, content_type: 'image/jpeg' },
    { filename: 'x.jpg', size_bytes: 10, content_type: 'image/jpeg', sha256: 'abc' },
    { filename: 'x.jpg', size_bytes: 0, content_type: 'image/jpeg', sha256: sha256(jpeg) },
    { filename: 'x.jpg', size_bytes: 10, content_type: 'image/jpeg', sha256: sha256(jpeg), method: 'PATCH' },
  ]) {
    const res = await h.post('/api/v1/media/presign', bad);
    expect({ bad, status: res.status, code: (await json(res)).error?.code }).toEqual({ bad, status: 400, code: 'VALIDATION_ERROR' });
  }
  expect((await h.fetch(`/api/v1/media/00000000-0000-4000-8000-00000000abcd/complete`, { method: 'POST' })).status).toBe(404);
});
