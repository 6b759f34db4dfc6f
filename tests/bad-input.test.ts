// Input that used to reach Postgres, recursion or storage unchecked and answer 500: NUL bytes,
// deep JSON, empty tus uploads, objects missing from storage, forged token claims. Each is a clear
// 4xx in the error format. (The spec-wide corpus is tests/abuse/bad-input.test.ts.)
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { MediaFileSchema } from '#entities/index.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ worker: true });
});
afterAll(async () => {
  await h?.stop();
});

type Json = Record<string, any>;
const json = async (res: Response): Promise<Json> => (await res.json()) as Json;
const TUS = { 'tus-resumable': '1.0.0' };
const b64 = (s: string) => Buffer.from(s).toString('base64');

async function expectValidationError(res: Response, location?: string): Promise<Json> {
  const body = await json(res);
  expect([res.status, body.error?.code, body]).toEqual([400, 'VALIDATION_ERROR', body]);
  expect(typeof body.error.request_id).toBe('string');
  if (location) expect([body.error.details.fields?.[0]?.location, body]).toEqual([location, body]);
  return body;
}

describe('NUL bytes', () => {
  test('in JSON bodies (values and property names), anywhere in the tree, are 400 before any write', async () => {
    await expectValidationError(await h.post('/api/v1/webhooks', { url: 'https://example.com/hook\u0000', events: ['job.completed'] }), 'body');
    await expectValidationError(await h.tenant.bearer.fetch(`/api/v1/organizations/${h.tenant.organizationId}`, {
      method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Acme\u0000' }),
    }), 'body');
    await expectValidationError(await h.post('/api/v1/api-keys', { name: 'k', permissions: ['media:read'], ['x\u0000']: 1 }), 'body');
    await expectValidationError(await h.post('/api/v1/auth/login', { email: 'a\u0000@example.com', password: 'x' }), 'body');
    const body = await expectValidationError(await h.post('/api/v1/chunked-uploads', { filename: 'a\u0000.wav', file_size: 10, chunk_size: 10 }), 'body');
    expect(body.error.details.fields[0].field).toBe('filename');
    // Nothing was renamed.
    expect((await json(await h.tenant.bearer.fetch(`/api/v1/organizations/${h.tenant.organizationId}`))).name).not.toContain('\u0000');
  });

  test('in query and path parameters', async () => {
    await expectValidationError(await h.fetch('/api/v1/media?mime_type=image%2Fjpeg%00'), 'query');
    await expectValidationError(await h.fetch('/api/v1/jobs?cursor=%00'), 'query');
    await expectValidationError(await h.fetch(`/api/v1/media/${randomUUID()}%00`), 'path');
    await expectValidationError(await h.fetch('/api/v1/media/%00/download'), 'path');
  });

  test('in a multipart filename or field name', async () => {
    const jpeg = await makeJpeg(8, 8);
    const multipart = (disposition: string) => {
      const boundary = `b${randomUUID()}`;
      const head = `--${boundary}\r\nContent-Disposition: form-data; ${disposition}\r\nContent-Type: image/jpeg\r\n\r\n`;
      return h.fetch('/api/v1/media/upload', {
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        body: Buffer.concat([Buffer.from(head), jpeg, Buffer.from(`\r\n--${boundary}--\r\n`)]),
      });
    };
    // RFC 5987 encoding lets a NUL through the part header into the decoded filename.
    await expectValidationError(await multipart(`name="file"; filename*=UTF-8''photo%00.jpg`), 'body');
    // A literal one is a malformed part header.
    await expectValidationError(await multipart('name="file"; filename="photo\u0000.jpg"'));
    const named = new FormData();
    named.append('note\u0000', 'x');
    named.append('file', new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' }), 'photo.jpg');
    await expectValidationError(await h.fetch('/api/v1/media/upload', { method: 'POST', body: named }));
    expect(await h.common.orm.em.fork().count(MediaFileSchema, { organization: h.tenant.organizationId, originalFilename: { $like: 'photo%' } })).toBe(0);
  });

  test('in tus Upload-Metadata (base64, so only visible decoded)', async () => {
    const res = await h.fetch('/api/v1/uploads', {
      method: 'POST',
      headers: { ...TUS, 'upload-length': '100', 'upload-metadata': `filename ${b64('a\u0000.wav')}` },
    });
    await expectValidationError(res, 'header');
  });
});

describe('JSON nesting', () => {
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
  test('10,000 levels deep is 400 on every JSON operation, including idempotent ones, and the API stays up', async () => {
    const res = await h.fetch('/api/v1/process', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: `{"media_id":"${randomUUID()}","action_id":"img_resize","parameters":{"width":${deep(10_000)}}}`,
    });
    const body = await expectValidationError(res, 'body');
    expect(body.error.details.fields[0].message).toMatch(/nested deeper than 64/);
    await expectValidationError(await h.fetch('/api/v1/webhooks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: deep(10_000) }), 'body');
    // 64 levels is still accepted by the parser (and judged by the schema).
    const ok = await h.fetch('/api/v1/webhooks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: deep(60) });
    expect([400, 422]).toContain(ok.status);
    expect((await json(ok)).error.details.fields?.[0]?.message ?? '').not.toMatch(/nested deeper/);
    expect((await h.fetch('/api/v1/health/live')).status).toBe(200);
  });
});

describe('tus Upload-Length: 0', () => {
  test('an empty upload is refused cleanly, not a 500, and leaves no media', async () => {
    const res = await h.fetch('/api/v1/uploads', { method: 'POST', headers: { ...TUS, 'upload-length': '0', 'upload-metadata': `filename ${b64('empty.wav')}` } });
    const body = await expectValidationError(res, 'header');
    expect(body.error.details.fields[0].field).toBe('Upload-Length');
    expect(await h.common.orm.em.fork().count(MediaFileSchema, { organization: h.tenant.organizationId, originalFilename: 'empty.wav' })).toBe(0);
  });
});

describe('content missing from storage', () => {
  test("a media file whose object is gone is 404 on download, and a job whose result media was deleted is 404", async () => {
    const media = await json(await h.upload(await makeJpeg(32, 32), 'gone.jpg', 'image/jpeg'));
    const row = await h.common.orm.em.fork().findOneOrFail(MediaFileSchema, { id: media.id });
    await h.common.storage.remove(row.storagePath);
    const download = await h.fetch(`/api/v1/media/${media.id}/download`);
    expect(download.status).toBe(404);
    expect((await json(download)).error).toMatchObject({ code: 'NOT_FOUND' });
    expect(JSON.stringify(await json(await h.fetch(`/api/v1/media/${media.id}/download`)))).not.toContain(row.storagePath);

    const input = await json(await h.upload(await makeJpeg(32, 32), 'input.jpg', 'image/jpeg'));
    const submitted = await json(await h.post('/api/v1/process', { media_id: input.id, action_id: 'img_resize', parameters: { width: 8 } }));
    const job = await waitFor(async () => {
      const j = await json(await h.fetch(`/api/v1/jobs/${submitted.id}`));
      return ['completed', 'failed'].includes(j.status) ? j : undefined;
    });
    expect(job.status).toBe('completed');
    expect((await h.fetch(`/api/v1/jobs/${job.id}/result`)).status).toBe(200);
    const result = await h.common.orm.em.fork().findOneOrFail(MediaFileSchema, { storagePath: { $like: `%/jobs/${job.id}/%` } });
    // Its object vanishes first (storage trouble), then the file is deleted through the API.
    await h.common.storage.remove(result.storagePath);
    const missing = await h.fetch(`/api/v1/jobs/${job.id}/result`);
    expect([missing.status, (await json(missing)).error?.code]).toEqual([404, 'NOT_FOUND']);
    expect((await h.fetch(`/api/v1/media/${result.id}`, { method: 'DELETE' })).status).toBe(204);
    const deleted = await h.fetch(`/api/v1/jobs/${job.id}/result`);
    expect([deleted.status, (await json(deleted)).error?.code]).toEqual([404, 'NOT_FOUND']);
  });
});

describe('forged token claims', () => {
  test('a correctly signed token whose sub, sid or org is not a UUID is 401, not 500', async () => {
    const key = new TextEncoder().encode(h.config.auth.jwtSecret);
    const sign = (claims: Record<string, unknown>, sub: string) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(sub)
        .setIssuer(h.config.auth.jwtIssuer)
        .setAudience(h.config.auth.jwtAudience)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(key);
    const good = { org: h.tenant.organizationId, sid: randomUUID() };
    for (const token of [
      await sign(good, 'not-a-uuid'),
      await sign({ ...good, org: 'acme' }, h.tenant.userId),
      await sign({ ...good, sid: "1' or '1'='1" }, h.tenant.userId),
    ]) {
      const res = await h.as({ accessToken: token }).fetch('/api/v1/auth/me');
      expect([res.status, (await json(res)).error?.code]).toEqual([401, 'UNAUTHORIZED']);
    }
  });
});
