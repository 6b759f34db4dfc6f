// Idempotency-Key on POST /api/v1/process and POST /api/v1/media/upload: one job or file per key,
// the first response replayed, 422 for a different request, 409 while the first is running.
import { startHarness, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';
import { rawBucket } from './support/s3.js';
import type { ApiClient, Tenant } from './support/tenants.js';

let h: Harness;
let mediaId: string;
beforeAll(async () => {
  h = await startHarness();
  mediaId = ((await (await h.upload(await makeJpeg(32, 24), 'in.jpg', 'image/jpeg')).json()) as { id: string }).id;
});
afterAll(async () => {
  await h?.stop();
});

type Json = Record<string, any>;
const json = async (res: Response): Promise<Json> => (await res.json()) as Json;
let n = 0;
const newKey = () => `key-${Date.now()}-${++n}`;

const submit = (key: string | undefined, body: unknown, client: ApiClient = h) =>
  client.fetch('/api/v1/process', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

function uploadWithKey(key: string, bytes: Buffer, filename: string, client: ApiClient = h): Promise<Response> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), filename);
  return client.fetch('/api/v1/media/upload', { method: 'POST', headers: { 'idempotency-key': key }, body: form });
}

const count = async (sql: string, tenant: Tenant = h.tenant) =>
  Number((await h.common.orm.em.fork().execute<{ n: string }[]>(sql, [tenant.organizationId]))[0]!.n);
const jobCount = () => count('select count(*) as n from processing_jobs where organization_id = ?');
const mediaCount = () => count('select count(*) as n from media_files where organization_id = ?');

const storedObjects = (tenant: Tenant = h.tenant): Promise<string[]> => rawBucket(h.config.s3).keys(`orgs/${tenant.organizationId}/media/`);

describe('POST /api/v1/process', () => {
  const body = () => ({ media_id: mediaId, action_id: 'img_resize', parameters: { width: 8, format: 'png' } });

  test('the same key and body give one job and the first response again', async () => {
    const key = newKey();
    const before = await jobCount();
    const first = await submit(key, body());
    expect(first.status).toBe(202);
    const firstBody = await json(first);
    expect(first.headers.get('idempotent-replayed')).toBeNull();

    // Same body with its keys in another order and other whitespace: the same request.
    const again = await submit(key, `{ "parameters": {"format":"png", "width": 8}, "action_id": "img_resize", "media_id": "${mediaId}" }`);
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
    expect(await json(again)).toEqual(firstBody);
    expect(await jobCount()).toBe(before + 1);
  });

  test('the same key with another body, or on another operation, is 422 and does nothing', async () => {
    const key = newKey();
    expect((await submit(key, body())).status).toBe(202);
    const before = await jobCount();
    const res = await submit(key, { ...body(), parameters: { width: 9 } });
    expect(res.status).toBe(422);
    expect((await json(res)).error).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', details: { idempotency_key: key } });
    const upload = await uploadWithKey(key, await makeJpeg(8, 8), 'x.jpg');
    expect(upload.status).toBe(422);
    expect(await jobCount()).toBe(before);
  });

  test('keys belong to one organization', async () => {
    const key = newKey();
    const mine = await json(await submit(key, body()));
    const other = await h.newTenant({ name: 'Idempotent other' });
    const theirMedia = (await json(await other.upload(await makeJpeg(16, 16), 'o.jpg', 'image/jpeg'))).id;
    const theirs = await submit(key, { ...body(), media_id: theirMedia }, other);
    expect(theirs.status).toBe(202);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    expect((await json(theirs)).id).not.toBe(mine.id);
  });

  test('a failed request stores nothing: the key can be used again', async () => {
    const key = newKey();
    const missing = await submit(key, { ...body(), media_id: '00000000-0000-4000-8000-00000000dead' });
    expect(missing.status).toBe(404);
    const invalid = await submit(key, { media_id: mediaId });
    expect(invalid.status).toBe(400);
    const ok = await submit(key, body());
    expect(ok.status).toBe(202);
    expect(ok.headers.get('idempotent-replayed')).toBeNull();
  });

  test('concurrent repeats make one job; the others are 409 or the replay', async () => {
    const key = newKey();
    const before = await jobCount();
    const replies = await Promise.all(Array.from({ length: 5 }, () => submit(key, body())));
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 202).length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((s) => s === 202 || s === 409)).toBe(true);
    const conflicts = await Promise.all(replies.filter((r) => r.status === 409).map(json));
    for (const c of conflicts) expect(c.error.code).toBe('CONFLICT');
    const ids = new Set((await Promise.all(replies.filter((r) => r.status === 202).map(json))).map((j) => j.id));
    expect(ids.size).toBe(1);
    expect(await jobCount()).toBe(before + 1);
  });

  test('without a key every request is a new job; a malformed key is 400', async () => {
    const before = await jobCount();
    expect((await submit(undefined, body())).status).toBe(202);
    expect((await submit(undefined, body())).status).toBe(202);
    expect(await jobCount()).toBe(before + 2);
    for (const bad of ['x'.repeat(256), 'has space']) {
      const res = await submit(bad, body());
      expect(res.status).toBe(400);
      expect((await json(res)).error.code).toBe('VALIDATION_ERROR');
    }
  });
});

describe('POST /api/v1/media/upload', () => {
  test('a repeated upload is received, compared, discarded, and the first response replayed', async () => {
    const key = newKey();
    const bytes = await makeJpeg(50, 40);
    const [rowsBefore, objectsBefore] = [await mediaCount(), (await storedObjects()).length];
    const first = await uploadWithKey(key, bytes, 'same.jpg');
    expect(first.status).toBe(201);
    const firstBody = await json(first);
    const again = await uploadWithKey(key, bytes, 'same.jpg');
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
    expect(await json(again)).toEqual(firstBody);
    expect(await mediaCount()).toBe(rowsBefore + 1);
    expect((await storedObjects()).length).toBe(objectsBefore + 1);
  });

  test('the same key with another file or name is 422 and leaves nothing behind', async () => {
    const key = newKey();
    expect((await uploadWithKey(key, await makeJpeg(30, 30), 'a.jpg')).status).toBe(201);
    const [rows, objects] = [await mediaCount(), await storedObjects()];
    for (const [bytes, name] of [[await makeJpeg(31, 30), 'a.jpg'], [await makeJpeg(30, 30), 'b.jpg']] as const) {
      const res = await uploadWithKey(key, bytes, name);
      expect(res.status).toBe(422);
      expect((await json(res)).error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    }
    expect(await mediaCount()).toBe(rows);
    expect((await storedObjects()).sort()).toEqual(objects.sort());
  });

  test('a repeat while the first upload is still streaming is 409', async () => {
    const key = newKey();
    const boundary = 'mf-boundary-1234';
    const file = await makeJpeg(64, 64);
    const head = Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="slow.jpg"\r\ncontent-type: image/jpeg\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new Uint8Array(Buffer.concat([head, file.subarray(0, 100)])));
        await released;
        controller.enqueue(new Uint8Array(Buffer.concat([file.subarray(100), tail])));
        controller.close();
      },
    });
    const slow = h.fetch('/api/v1/media/upload', {
      method: 'POST',
      headers: { 'idempotency-key': key, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
      duplex: 'half',
    } as RequestInit);
    // Wait until the first request holds the key.
    const held = async () =>
      Number((await h.common.orm.em.fork().execute<{ n: string }[]>(`select count(*) as n from idempotency_keys where key = ? and state = 'running'`, [key]))[0]!.n);
    for (let i = 0; i < 100 && (await held()) === 0; i++) await new Promise((r) => setTimeout(r, 50));
    const concurrent = await uploadWithKey(key, file, 'slow.jpg');
    expect(concurrent.status).toBe(409);
    expect((await json(concurrent)).error.code).toBe('CONFLICT');
    release();
    const first = await slow;
    expect(first.status).toBe(201);
    const replay = await uploadWithKey(key, file, 'slow.jpg');
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect((await json(replay)).id).toBe((await json(first)).id);
  });
});
