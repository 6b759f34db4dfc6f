import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { getStateQuery } from '#workflows/index.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { stepRuns } from './support/history.js';
import { makeJpeg } from './support/media.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ worker: true });
});
afterAll(async () => {
  await h?.stop();
});

const json = async (res: Response) => (await res.json()) as Record<string, any>;
const post = (path: string, body: unknown) => h.post(path, body);

function expectError(body: Record<string, any>, code: string) {
  expect(body.error).toEqual({
    code,
    message: expect.any(String),
    details: expect.any(Object),
    request_id: expect.stringMatching(/^req_[0-9a-f]{16}$/),
  });
}

describe('an image job end to end', () => {
  test('upload, resize to a 320px WebP, poll to completed, download', async () => {
    const jpeg = await makeJpeg(640, 480);
    const up = await h.upload(jpeg, 'holiday photo.jpg', 'image/jpeg');
    expect(up.status).toBe(201);
    const media = await json(up);
    expect(media).toMatchObject({
      original_filename: 'holiday photo.jpg',
      mime_type: 'image/jpeg',
      media_type: 'image',
      file_size_bytes: jpeg.length,
      checksum_sha256: createHash('sha256').update(jpeg).digest('hex'),
      checksum_md5: createHash('md5').update(jpeg).digest('hex'),
      status: 'ready',
    });
    expect(up.headers.get('location')).toBe(`${h.url}/api/v1/media/${media.id}`);

    const fetched = await json(await h.fetch(`/api/v1/media/${media.id}`));
    expect(fetched).toEqual(media);

    const original = await h.fetch(`/api/v1/media/${media.id}/download`);
    expect(original.status).toBe(200);
    expect(original.headers.get('content-type')).toBe('image/jpeg');
    expect(original.headers.get('content-disposition')).toBe('attachment; filename="holiday photo.jpg"');
    expect(Buffer.from(await original.arrayBuffer()).equals(jpeg)).toBe(true);

    const submitted = await post('/api/v1/process', {
      media_id: media.id,
      action_id: 'img_resize',
      parameters: { width: 320, format: 'webp' },
    });
    expect(submitted.status).toBe(202);
    const job = await json(submitted);
    expect(job).toMatchObject({ status: expect.stringMatching(/^(queued|processing|completed)$/), action_id: 'img_resize', media_id: media.id });
    // Defaults from the action's schema are applied and stored.
    expect(job.parameters).toMatchObject({ width: 320, format: 'webp', fit: 'cover', quality: 80 });

    const done = await waitFor(async () => {
      const j = await json(await h.fetch(`/api/v1/jobs/${job.id}`));
      return ['completed', 'failed'].includes(j.status) ? j : undefined;
    });
    expect(done).toMatchObject({
      status: 'completed',
      progress: 1,
      result: { type: 'file', mime_type: 'image/webp', download_url: `${h.url}/api/v1/jobs/${job.id}/result` },
    });
    expect(Date.parse(done.completed_at)).toBeGreaterThanOrEqual(Date.parse(done.started_at));

    const result = await h.fetch(`/api/v1/jobs/${job.id}/result`);
    expect(result.status).toBe(200);
    expect(result.headers.get('content-type')).toBe('image/webp');
    const bytes = Buffer.from(await result.arrayBuffer());
    expect(done.result.file_size_bytes).toBe(bytes.length);
    const meta = await sharp(bytes).metadata();
    expect(meta.format).toBe('webp');
    expect(meta.width).toBe(320);
    expect(meta.height).toBe(240);

    // The workflow is real and visible in Temporal under an id derived from the job id.
    const handle = h.temporal.workflow.getHandle(`job-${job.id}`);
    // The job is completed in the database before the workflow closes (usage, webhooks after).
    await handle.result();
    expect((await handle.describe()).status.name).toBe('COMPLETED');
    expect(await handle.query(getStateQuery)).toMatchObject({ status: 'completed' });
  });

  test('a file that lies about being an image fails its job as bad input, without retries', async () => {
    // A valid JPEG header (through the start of scan, so the upload's inspection reads its size)
    // then cut short: accepted on upload, fails in sharp when the pixels are decoded.
    const jpeg = await makeJpeg(64, 64);
    const sos = jpeg.indexOf(Buffer.from([0xff, 0xda]));
    expect(sos).toBeGreaterThan(0);
    const corrupt = jpeg.subarray(0, sos + 40);
    const media = await json(await h.upload(corrupt, 'broken.jpg'));
    expect(media.media_type).toBe('image');
    const job = await json(await post('/api/v1/process', { media_id: media.id, action_id: 'img_resize', parameters: { width: 10 } }));
    const failed = await waitFor(async () => {
      const j = await json(await h.fetch(`/api/v1/jobs/${job.id}`));
      return ['completed', 'failed'].includes(j.status) ? j : undefined;
    });
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'INVALID_INPUT', message: expect.stringContaining('cannot decode image') } });
    expect(await stepRuns(h.temporal, `job-${job.id}`)).toBe(1);

    const result = await h.fetch(`/api/v1/jobs/${job.id}/result`);
    expect(result.status).toBe(409);
    expectError(await json(result), 'CONFLICT');
  });
});

describe('bad requests get a 4xx in the error format', () => {
  test('upload without a file part', async () => {
    const form = new FormData();
    form.append('note', 'no file here');
    const res = await h.fetch(`/api/v1/media/upload`, { method: 'POST', body: form });
    expect(res.status).toBe(400);
    const body = await json(res);
    expectError(body, 'VALIDATION_ERROR');
    expect(body.error.details.fields).toEqual([expect.objectContaining({ field: 'file' })]);
    expect(res.headers.get('x-request-id')).toBe(body.error.request_id);
  });

  test('upload with no body at all, and with JSON instead of multipart', async () => {
    const empty = await h.fetch(`/api/v1/media/upload`, { method: 'POST' });
    expect(empty.status).toBe(400);
    expectError(await json(empty), 'VALIDATION_ERROR');
    const wrongType = await post('/api/v1/media/upload', { file: 'x' });
    expect(wrongType.status).toBe(400);
    const body = await json(wrongType);
    expectError(body, 'VALIDATION_ERROR');
    expect(body.error.details.fields[0]).toMatchObject({ field: 'content-type', location: 'header' });
  });

  test('a text file named .jpg is INVALID_FILE_TYPE', async () => {
    const res = await h.upload(Buffer.from('just some text, not a picture\n'.repeat(20)), 'cat.jpg', 'image/jpeg');
    expect(res.status).toBe(400);
    expectError(await json(res), 'INVALID_FILE_TYPE');
  });

  test('unknown action, negative width, wrong media id', async () => {
    const media = await json(await h.upload(await makeJpeg(32, 32), 'a.jpg'));

    const unknown = await post('/api/v1/process', { media_id: media.id, action_id: 'img_teleport', parameters: {} });
    expect(unknown.status).toBe(400);
    expectError(await json(unknown), 'INVALID_ACTION');

    const negative = await post('/api/v1/process', { media_id: media.id, action_id: 'img_resize', parameters: { width: -5 } });
    expect(negative.status).toBe(400);
    const nb = await json(negative);
    expectError(nb, 'VALIDATION_ERROR');
    expect(nb.error.details.fields).toContainEqual(expect.objectContaining({ field: 'parameters.width', location: 'body' }));

    const missing = await post('/api/v1/process', { media_id: '3f0e7a1c-9b7e-4c1a-8a8e-2d6f1b0c9e55', action_id: 'img_resize', parameters: { width: 5 } });
    expect(missing.status).toBe(404);
    expectError(await json(missing), 'NOT_FOUND');
  });

  test('the spec validates the body: missing fields, extra fields, bad uuid, malformed JSON', async () => {
    const res = await post('/api/v1/process', { action_id: 'img_resize', surprise: true, media_id: 'not-a-uuid' });
    expect(res.status).toBe(400);
    const body = await json(res);
    expectError(body, 'VALIDATION_ERROR');
    const fields = body.error.details.fields.map((f: { field: string }) => f.field).sort();
    expect(fields).toEqual(['media_id', 'surprise']);

    const malformed = await h.fetch(`/api/v1/process`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"media_id":' });
    expect(malformed.status).toBe(400);
    expectError(await json(malformed), 'VALIDATION_ERROR');
  });

  test('unknown ids, malformed ids, unknown routes and wrong methods', async () => {
    for (const path of ['/api/v1/media/3f0e7a1c-9b7e-4c1a-8a8e-2d6f1b0c9e55', '/api/v1/jobs/3f0e7a1c-9b7e-4c1a-8a8e-2d6f1b0c9e55', '/api/v1/jobs/3f0e7a1c-9b7e-4c1a-8a8e-2d6f1b0c9e55/result', '/api/v1/nothing-here']) {
      const res = await h.fetch(path);
      expect(res.status).toBe(404);
      expectError(await json(res), 'NOT_FOUND');
    }
    const bad = await h.fetch(`/api/v1/jobs/12345`);
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.details.fields[0]).toMatchObject({ field: 'id', location: 'path' });

    const wrongMethod = await h.fetch(`/api/v1/process`, { method: 'GET' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toContain('POST');
    expectError(await json(wrongMethod), 'METHOD_NOT_ALLOWED');
  });
});

describe('system endpoints', () => {
  test('health reports each dependency', async () => {
    const res = await h.fetch(`/api/v1/health`);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      status: 'ok',
      checks: { database: { status: 'up' }, temporal: { status: 'up' }, storage: { status: 'up' } },
    });
  });

  test('the spec is served as JSON and the docs page uses local assets only', async () => {
    const spec = await json(await h.fetch(`/api/v1/openapi.json`));
    expect(spec.openapi).toBe('3.1.0');
    expect(Object.keys(spec.paths)).toContain('/api/v1/process');
    const page = await h.fetch(`/docs`);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(sources.length).toBeGreaterThan(2);
    for (const src of sources) {
      expect(src.startsWith('/docs/assets/')).toBe(true);
      expect((await h.fetch(src)).status).toBe(200);
    }
  });

  test('a client request id is echoed; a malformed one is replaced', async () => {
    const mine = await h.fetch(`/api/v1/health`, { headers: { 'x-request-id': 'trace-abc.123' } });
    expect(mine.headers.get('x-request-id')).toBe('trace-abc.123');
    const evil = await h.fetch(`/api/v1/health`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(evil.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{16}$/);
  });
});

describe('action catalogue', () => {
  test('lists actions and describes one with both schemas', async () => {
    const all = await json(await h.fetch(`/api/v1/actions`));
    expect(all.actions).toContainEqual(expect.objectContaining({ action_id: 'img_resize', media_type: 'image', category: 'modify', result_type: 'file' }));
    const audio = await json(await h.fetch(`/api/v1/actions/audio`));
    expect(audio.actions.every((a: { media_type: string }) => a.media_type === 'audio')).toBe(true);
    const detail = await json(await h.fetch(`/api/v1/actions/image/img_resize`));
    expect(detail.parameters_schema.properties.width).toMatchObject({ type: 'integer', examples: [320] });
    expect(detail.output_schema).toEqual(expect.any(Object));
    expect((await h.fetch(`/api/v1/actions/audio/img_resize`)).status).toBe(404);
    expect((await h.fetch(`/api/v1/actions/video`)).status).toBe(400);
  });
});
