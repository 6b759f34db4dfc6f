import sharp from 'sharp';
import analyze from '#domain/actions/image/analyze/analyze.js';
import metadata from '#domain/actions/image/metadata/metadata.js';
import { createAjv } from '#lib/ajv.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';

let h: Harness;
beforeAll(async () => {
  // No AI provider: img_analyze must then answer without a description.
  h = await startHarness({ worker: true, env: { OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '' } });
});
afterAll(async () => {
  await h?.stop();
});

const json = async (res: Response) => (await res.json()) as Record<string, any>;

async function upload(bytes: Buffer, name: string): Promise<Record<string, any>> {
  const res = await h.upload(bytes, name);
  expect(res.status).toBe(201);
  return json(res);
}

async function runJob(mediaId: string, actionId: string, parameters: Record<string, unknown>): Promise<Record<string, any>> {
  const submitted = await h.post('/api/v1/process', { media_id: mediaId, action_id: actionId, parameters });
  expect(submitted.status).toBe(202);
  const { id } = await json(submitted);
  return waitFor(async () => {
    const job = await json(await h.fetch(`/api/v1/jobs/${id}`));
    return ['completed', 'failed'].includes(job.status) ? job : undefined;
  });
}

async function resultBytes(jobId: string, type: string): Promise<Buffer> {
  const res = await h.fetch(`/api/v1/jobs/${jobId}/result`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe(type);
  return Buffer.from(await res.arrayBuffer());
}

/** A camera-like photo: 640x480 with EXIF (GPS included) and an ICC profile. */
const photo = async () =>
  sharp(await makeJpeg(640, 480))
    .withExif({
      IFD0: { Make: 'Acme', Model: 'Cam 1' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 30/1', GPSLongitudeRef: 'E', GPSLongitude: '2/1 17/1 40/1' },
    })
    .withIccProfile('srgb')
    .jpeg({ quality: 90 })
    .toBuffer();

describe('image actions through the API', () => {
  let media: Record<string, any>;
  beforeAll(async () => {
    media = await upload(await photo(), 'paris.jpg');
  });

  test('img_crop cuts a region; a region outside the image fails the job as bad input', async () => {
    const job = await runJob(media.id, 'img_crop', { left: 100, top: 50, width: 300, height: 200, format: 'png' });
    expect(job).toMatchObject({
      status: 'completed',
      parameters: { strategy: 'region', quality: 80 },
      result: { type: 'file', mime_type: 'image/png' },
    });
    const meta = await sharp(await resultBytes(job.id, 'image/png')).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 300, 200]);

    const outside = await runJob(media.id, 'img_crop', { left: 600, top: 0, width: 100, height: 100 });
    expect(outside).toMatchObject({ status: 'failed', error: { code: 'INVALID_INPUT', message: expect.stringContaining('outside the 640x480 image') } });

    const smart = await runJob(media.id, 'img_crop', { strategy: 'attention', width: 200, height: 200 });
    expect(smart).toMatchObject({ status: 'completed', result: { mime_type: 'image/jpeg' } });
    const smartMeta = await sharp(await resultBytes(smart.id, 'image/jpeg')).metadata();
    expect([smartMeta.width, smartMeta.height]).toEqual([200, 200]);
  });

  test('img_format_convert makes an AVIF without the GPS position', async () => {
    const job = await runJob(media.id, 'img_format_convert', { format: 'avif', quality: 50 });
    expect(job).toMatchObject({ status: 'completed', result: { type: 'file', mime_type: 'image/avif' } });
    const bytes = await resultBytes(job.id, 'image/avif');
    expect(job.result.file_size_bytes).toBe(bytes.length);
    const meta = await sharp(bytes).metadata();
    expect([meta.format, meta.compression, meta.width, meta.height, meta.exif]).toEqual(['heif', 'av1', 640, 480, undefined]);

    const refused = await h.post('/api/v1/process', { media_id: media.id, action_id: 'img_format_convert', parameters: { format: 'jpeg', lossless: true } });
    expect(refused.status).toBe(400);
    expect((await json(refused)).error).toMatchObject({ code: 'VALIDATION_ERROR' });
  });

  test('img_metadata reports EXIF, GPS and ICC as JSON, in the job and at /result', async () => {
    const job = await runJob(media.id, 'img_metadata', {});
    expect(job).toMatchObject({ status: 'completed', result: { type: 'json' } });
    const data = job.result.data;
    expect(createAjv().validate(metadata.outputSchema, data)).toBe(true);
    expect(data).toMatchObject({ format: 'jpeg', width: 640, height: 480, has_icc_profile: true, exif: { Image: { Make: 'Acme', Model: 'Cam 1' } } });
    expect(data.gps.latitude).toBeCloseTo(48 + 51 / 60 + 30 / 3600, 6);
    expect(data.gps.longitude).toBeCloseTo(2 + 17 / 60 + 40 / 3600, 6);
    expect(data.icc.description).toMatch(/sRGB/i);
    const result = await h.fetch(`/api/v1/jobs/${job.id}/result`);
    expect(result.status).toBe(200);
    expect(await json(result)).toEqual(data);
  });

  test('img_analyze measures the image and, without an AI provider, has no description', async () => {
    const job = await runJob(media.id, 'img_analyze', {});
    expect(job).toMatchObject({ status: 'completed', parameters: { include_description: true, color_count: 5 } });
    const data = job.result.data;
    expect(createAjv().validate(analyze.outputSchema, data)).toBe(true);
    expect(data).not.toHaveProperty('description');
    expect(data).toMatchObject({ width: 640, height: 480, is_opaque: true });
    expect(data.channels.map((c: { name: string }) => c.name)).toEqual(['red', 'green', 'blue']);
    // makeJpeg: a blue-to-orange gradient with a white disc, so white is among the colours found.
    expect(data.dominant_colors.length).toBeGreaterThan(1);
    expect(data.dominant_colors.some((c: { rgb: number[] }) => c.rgb.every((v) => v > 230))).toBe(true);
    expect(data.entropy).toBeGreaterThan(1);
  });
});
