import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { startHarness, type Harness } from './support/harness.js';
import { rawBucket } from './support/s3.js';

let h: Harness;
let s3: ReturnType<typeof rawBucket>;
beforeAll(async () => {
  h = await startHarness({ env: { MAX_IMAGE_FILE_SIZE_MB: '1', S3_PART_SIZE_MB: '5' } });
  s3 = rawBucket(h.config.s3);
});
afterAll(async () => {
  await h?.stop();
});

const storedObjects = () => s3.keys('orgs/');
const incompleteUploads = () => s3.multipartUploads('orgs/');

test('a file over the size limit is refused with FILE_TOO_LARGE and nothing is left in storage', async () => {
  // Random pixels do not compress: this PNG is several megabytes, over the 1 MB limit set above,
  // and over one multipart part (5 MB), so the partial multipart upload must be cleaned up too.
  const noise = await sharp(randomBytes(1600 * 1600 * 3), { raw: { width: 1600, height: 1600, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
  expect(noise.length).toBeGreaterThan(6 * 1024 * 1024);
  const before = await storedObjects();

  const res = await h.upload(noise, 'huge.png', 'image/png');
  expect(res.status).toBe(400);
  const body = (await res.json()) as { error: { code: string; details: Record<string, unknown> } };
  expect(body.error.code).toBe('FILE_TOO_LARGE');
  expect(body.error.details).toMatchObject({ field: 'file', max_size_bytes: 1024 * 1024 });

  expect(await storedObjects()).toEqual(before);
  expect(await incompleteUploads()).toBe(0);
});

test('a file just under the limit is stored whole', async () => {
  const small = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#336699' } }).png().toBuffer();
  const res = await h.upload(small, 'small.png');
  expect(res.status).toBe(201);
  const media = (await res.json()) as { id: string; file_size_bytes: number; mime_type: string };
  expect(media).toMatchObject({ file_size_bytes: small.length, mime_type: 'image/png' });
  // Stored encrypted (docs/security.md): the storage reports the plaintext size and returns the bytes.
  const key = `orgs/${h.tenant.organizationId}/media/${media.id}/original`;
  expect((await h.common.storage.stat(key))?.size).toBe(small.length);
  expect(Buffer.concat(await (await h.common.storage.get(key)).toArray())).toEqual(small);
});
