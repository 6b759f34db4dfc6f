// Resumable uploads (tus with a real tus client, and the chunked API), their progress events,
// their bad inputs, and expiry. Files are 20-30 MiB WAVs of noise: large enough for several parts.
import { createHash } from 'node:crypto';
import * as tus from 'tus-js-client';
import { cleanUpExpiredUploads } from '#api/services/uploads/index.js';
import { chunkedKey, createTempStore, tusKey, type TempStore } from '#api/services/uploads/temp-store.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { noiseWav } from './support/noise-wav.js';

const MIB = 1024 * 1024;
let h: Harness;
let temp: TempStore;
beforeAll(async () => {
  h = await startHarness({ worker: true, env: { S3_PART_SIZE_MB: '5' } });
  temp = createTempStore(h.config.s3);
});
afterAll(async () => {
  temp?.close();
  await h?.stop();
});

const json = async (res: Response) => (await res.json()) as Record<string, any>;
const sha256 = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');
const auth = () => ({ 'x-api-key': h.tenant.apiKey });
const TUS = { 'tus-resumable': '1.0.0' };
const mediaCount = async () =>
  Number((await h.common.orm.em.fork().execute<{ n: string }[]>(`select count(*) as n from media_files where organization_id = ?`, [h.tenant.organizationId]))[0]!.n);
/** Objects and unfinished multipart uploads of an upload (MinIO lists multipart uploads by exact key only). */
const leftovers = async (id: string) => {
  const { objects } = await temp.list('uploads/');
  const multipart = [...(await temp.list(tusKey(id))).multipart, ...(await temp.list(chunkedKey(id))).multipart];
  return [...objects.map((o) => o.key).filter((k) => k.includes(id)), ...multipart.map((m) => `multipart:${m.key}`)];
};

async function downloadSha(mediaId: string): Promise<string> {
  const res = await h.fetch(`/api/v1/media/${mediaId}/download`);
  expect(res.status).toBe(200);
  return sha256(Buffer.from(await res.arrayBuffer()));
}

async function runTrim(mediaId: string): Promise<Record<string, any>> {
  const res = await h.post('/api/v1/process', { media_id: mediaId, action_id: 'aud_trim', parameters: { start: 0, duration: 1 } });
  expect(res.status).toBe(202);
  return finished((await json(res)).id);
}
const finished = (jobId: string) =>
  waitFor(async () => {
    const job = await json(await h.fetch(`/api/v1/jobs/${jobId}`));
    return ['completed', 'failed'].includes(job.status) ? job : undefined;
  });

function tusUpload(file: Buffer, opts: Partial<tus.UploadOptions> = {}) {
  return new tus.Upload(file, { endpoint: `${h.url}/api/v1/uploads`, headers: auth(), metadata: { filename: 'field recording.wav' }, retryDelays: [], ...opts });
}

describe('tus', () => {
  test('an upload interrupted mid-way and resumed by another client arrives intact and can be processed', async () => {
    const file = noiseWav(24 * MIB);
    let url = '';
    // First client: aborts after about a third (a dropped connection).
    await new Promise<void>((resolve, reject) => {
      const first = tusUpload(file, {
        onProgress: (sent) => {
          if (sent > file.length / 3) void first.abort().then(resolve);
        },
        onUploadUrlAvailable: () => (url = first.url!),
        onError: reject,
        onSuccess: () => reject(new Error('the upload should have been interrupted')),
      });
      first.start();
    });
    const id = url.split('/').pop()!;
    const offset = await waitFor(async () => {
      const head = await h.fetch(`/api/v1/uploads/${id}`, { method: 'HEAD', headers: TUS });
      const o = Number(head.headers.get('upload-offset'));
      return head.status === 200 && o > 0 ? o : undefined;
    });
    expect(offset).toBeLessThan(file.length);

    // Second client resumes from the server's offset.
    const mediaId = await new Promise<string>((resolve, reject) => {
      const second = tusUpload(file, {
        uploadUrl: url,
        onError: reject,
        onSuccess: ({ lastResponse }) => resolve(lastResponse.getHeader('Mediaflow-Media-Id') ?? ''),
      });
      second.start();
    });
    expect(mediaId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await json(await h.fetch(`/api/v1/uploads/${id}`))).toMatchObject({ id, kind: 'tus', status: 'completed', media_id: mediaId, bytes_received: file.length, total_bytes: file.length, fraction: 1 });
    const media = await json(await h.fetch(`/api/v1/media/${mediaId}`));
    expect(media).toMatchObject({ original_filename: 'field recording.wav', media_type: 'audio', file_size_bytes: file.length, checksum_sha256: sha256(file) });
    expect(await downloadSha(mediaId)).toBe(sha256(file));
    expect(await leftovers(id)).toEqual([]);
    expect((await h.fetch(`/api/v1/uploads/${id}`, { method: 'HEAD', headers: TUS })).status).toBe(404);
    expect((await runTrim(mediaId)).status).toBe('completed');
  });

  const create = async (length: number, headers: Record<string, string> = {}) => {
    const res = await h.fetch('/api/v1/uploads', { method: 'POST', headers: { ...TUS, 'upload-length': String(length), ...headers } });
    expect(res.status).toBe(201);
    return res.headers.get('location')!.split('/').pop()!;
  };
  const patch = (id: string, offset: number, body: Buffer, headers: Record<string, string> = {}) =>
    h.fetch(`/api/v1/uploads/${id}`, {
      method: 'PATCH',
      headers: { ...TUS, 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream', ...headers },
      body: new Uint8Array(body),
    });

  test('OPTIONS advertises the extensions, checksum algorithms and the size limit, without credentials', async () => {
    const res = await h.as({}).fetch('/api/v1/uploads', { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('tus-version')).toBe('1.0.0');
    expect(res.headers.get('tus-extension')!.split(',')).toEqual(expect.arrayContaining(['creation', 'termination', 'checksum', 'expiration']));
    expect(res.headers.get('tus-checksum-algorithm')).toContain('sha256');
    expect(Number(res.headers.get('tus-max-size'))).toBe(h.config.media.audio.maxFileSizeBytes);
  });

  test('a declared length over the limit is 413 FILE_TOO_LARGE and creates nothing', async () => {
    const before = await h.common.orm.em.fork().execute(`select count(*) as n from upload_sessions`);
    const res = await h.fetch('/api/v1/uploads', { method: 'POST', headers: { ...TUS, 'upload-length': String(h.config.media.audio.maxFileSizeBytes + 1) } });
    expect(res.status).toBe(413);
    expect((await json(res)).error).toMatchObject({ code: 'FILE_TOO_LARGE', request_id: expect.any(String) });
    expect(await h.common.orm.em.fork().execute(`select count(*) as n from upload_sessions`)).toEqual(before);
  });

  test('requests without credentials or without Tus-Resumable are refused', async () => {
    expect((await h.as({}).fetch('/api/v1/uploads', { method: 'POST', headers: { ...TUS, 'upload-length': '100' } })).status).toBe(401);
    const res = await h.fetch('/api/v1/uploads', { method: 'POST', headers: { 'upload-length': '100' } });
    expect(res.status).toBe(412);
    expect((await json(res)).error.code).toBe('VALIDATION_ERROR');
  });

  test('a PATCH at the wrong offset is 409, one beyond the declared length 413; the upload is unchanged', async () => {
    const file = noiseWav(64 * 1024);
    const id = await create(file.length);
    expect((await patch(id, 0, file.subarray(0, 1000))).status).toBe(204);
    const wrong = await patch(id, 5000, file.subarray(5000, 6000));
    expect(wrong.status).toBe(409);
    expect((await json(wrong)).error.code).toBe('CONFLICT');
    const beyond = await patch(id, 1000, Buffer.concat([file.subarray(1000), Buffer.alloc(10)]));
    expect(beyond.status).toBe(413);
    const head = await h.fetch(`/api/v1/uploads/${id}`, { method: 'HEAD', headers: TUS });
    expect(head.headers.get('upload-offset')).toBe('1000');
    expect(await mediaCount()).toBeGreaterThanOrEqual(0);
  });

  test('Upload-Checksum: a mismatch is 460 and stores nothing; a match is stored', async () => {
    const file = noiseWav(64 * 1024);
    const id = await create(file.length);
    const digest = (b: Buffer) => createHash('sha256').update(b).digest('base64');
    const bad = await patch(id, 0, file, { 'upload-checksum': `sha256 ${digest(Buffer.from('other'))}` });
    expect(bad.status).toBe(460);
    expect((await h.fetch(`/api/v1/uploads/${id}`, { method: 'HEAD', headers: TUS })).headers.get('upload-offset')).toBe('0');
    expect((await patch(id, 0, file, { 'upload-checksum': 'crc32 AAAA' })).status).toBe(400);
    const good = await patch(id, 0, file, { 'upload-checksum': `sha256 ${digest(file)}` });
    expect(good.status).toBe(204);
    const mediaId = good.headers.get('mediaflow-media-id')!;
    expect((await json(await h.fetch(`/api/v1/media/${mediaId}`))).checksum_sha256).toBe(sha256(file));
  });

  test('a finished upload that is not media fails its last PATCH with INVALID_FILE_TYPE and leaves nothing', async () => {
    const before = await mediaCount();
    const junk = Buffer.alloc(6 * MIB, 7);
    const id = await create(junk.length);
    const res = await patch(id, 0, junk);
    expect(res.status).toBe(400);
    expect((await json(res)).error.code).toBe('INVALID_FILE_TYPE');
    expect(await mediaCount()).toBe(before);
    expect(await leftovers(id)).toEqual([]);
    expect(await json(await h.fetch(`/api/v1/uploads/${id}`))).toMatchObject({ status: 'failed', media_id: null, error: { code: 'INVALID_FILE_TYPE' } });
  });

  test('termination removes the upload and its parts', async () => {
    const file = noiseWav(12 * MIB);
    const id = await create(file.length);
    expect((await patch(id, 0, file.subarray(0, 7 * MIB))).status).toBe(204);
    expect(await leftovers(id)).not.toEqual([]);
    expect((await h.fetch(`/api/v1/uploads/${id}`, { method: 'DELETE', headers: TUS })).status).toBe(204);
    expect(await leftovers(id)).toEqual([]);
    expect((await h.fetch(`/api/v1/uploads/${id}`, { method: 'HEAD', headers: TUS })).status).toBe(404);
    expect((await h.fetch(`/api/v1/uploads/${id}`)).status).toBe(404);
  });
});

describe('chunked uploads', () => {
  const CHUNK = 5 * MIB;
  const put = (id: string, n: number, body: Buffer, sha = sha256(body)) =>
    h.fetch(`/api/v1/chunked-uploads/${id}/chunks/${n}`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream', 'x-chunk-sha256': sha }, body: new Uint8Array(body) });
  const chunksOf = (file: Buffer) => Array.from({ length: Math.ceil(file.length / CHUNK) }, (_, n) => file.subarray(n * CHUNK, (n + 1) * CHUNK));
  const init = async (file: Buffer, extra: Record<string, unknown> = {}) => {
    const res = await h.post('/api/v1/chunked-uploads', { filename: 'long take.wav', file_size: file.length, chunk_size: CHUNK, ...extra });
    expect(res.status).toBe(201);
    return json(res);
  };

  test('chunks out of order, a dropped connection, status, resume, finalize with a job', async () => {
    const file = noiseWav(21 * MIB);
    const chunks = chunksOf(file);
    const upload = await init(file, { sha256: sha256(file), total_chunks: chunks.length });
    expect(upload).toMatchObject({ status: 'receiving', total_chunks: 5, received_chunks: [], missing_chunks: [0, 1, 2, 3, 4] });
    expect((await put(upload.id, 3, chunks[3]!)).status).toBe(200);
    expect((await put(upload.id, 0, chunks[0]!)).status).toBe(200);

    // Chunk 1 is cut off half-way: its connection drops.
    const stop = new AbortController();
    const half = chunks[1]!.subarray(0, CHUNK / 2);
    const body = new ReadableStream({
      start(c) {
        c.enqueue(new Uint8Array(half));
        setTimeout(() => stop.abort(), 200);
      },
    });
    await expect(
      h.fetch(`/api/v1/chunked-uploads/${upload.id}/chunks/1`, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'x-chunk-sha256': sha256(chunks[1]!), 'content-length': String(CHUNK) },
        body,
        signal: stop.signal,
        duplex: 'half',
      } as RequestInit),
    ).rejects.toThrow();

    const status = await waitFor(async () => {
      const s = await json(await h.fetch(`/api/v1/chunked-uploads/${upload.id}`));
      return s.received_chunks.length === 2 ? s : undefined;
    });
    expect(status).toMatchObject({ received_chunks: [0, 3], missing_chunks: [1, 2, 4], bytes_received: 2 * CHUNK });
    for (const n of status.missing_chunks as number[]) expect((await put(upload.id, n, chunks[n]!)).status).toBe(200);

    const res = await h.post(`/api/v1/chunked-uploads/${upload.id}/finalize`, {
      chunk_checksums: chunks.map(sha256),
      process: { action_id: 'aud_trim', parameters: { start: 0, duration: 1 } },
    });
    expect(res.status).toBe(201);
    const done = await json(res);
    expect(done.media).toMatchObject({ original_filename: 'long take.wav', file_size_bytes: file.length, checksum_sha256: sha256(file) });
    expect(await downloadSha(done.media.id)).toBe(sha256(file));
    expect(done.job).toMatchObject({ media_id: done.media.id, action_id: 'aud_trim' });
    expect((await finished(done.job.id)).status).toBe('completed');
    expect(await json(await h.fetch(`/api/v1/uploads/${upload.id}`))).toMatchObject({ kind: 'chunked', status: 'completed', media_id: done.media.id });
    expect(await leftovers(upload.id)).toEqual([]);
  });

  test('bad chunks: wrong checksum, wrong size, out of range are 400; a duplicate is 200 when equal, 409 when not', async () => {
    const file = noiseWav(11 * MIB);
    const chunks = chunksOf(file);
    const { id } = await init(file);
    const wrong = await put(id, 0, chunks[0]!, sha256(Buffer.from('something else')));
    expect(wrong.status).toBe(400);
    expect((await json(wrong)).error).toMatchObject({ code: 'VALIDATION_ERROR', details: { chunk: 0, actual_sha256: sha256(chunks[0]!) } });
    expect((await put(id, 0, chunks[0]!.subarray(1))).status).toBe(400);
    const range = await put(id, 3, chunks[2]!);
    expect(range.status).toBe(400);
    expect((await json(range)).error.details).toMatchObject({ total_chunks: 3 });
    expect((await json(await h.fetch(`/api/v1/chunked-uploads/${id}`))).received_chunks).toEqual([]);

    expect((await put(id, 0, chunks[0]!)).status).toBe(200);
    const again = await put(id, 0, chunks[0]!);
    expect(again.status).toBe(200);
    expect(await json(again)).toMatchObject({ chunk_number: 0, duplicate: true, bytes_received: CHUNK });
    const other = Buffer.from(chunks[0]!);
    other[100] = other[100]! ^ 1;
    const conflict = await put(id, 0, other);
    expect(conflict.status).toBe(409);
    expect((await json(conflict)).error.code).toBe('CONFLICT');
    expect((await json(await h.fetch(`/api/v1/chunked-uploads/${id}`))).bytes_received).toBe(CHUNK);
  });

  test('finalize with missing chunks or other checksums is 400 and changes nothing', async () => {
    const before = await mediaCount();
    const file = noiseWav(11 * MIB);
    const chunks = chunksOf(file);
    const { id } = await init(file);
    await put(id, 0, chunks[0]!);
    await put(id, 2, chunks[2]!);
    const missing = await h.post(`/api/v1/chunked-uploads/${id}/finalize`, { chunk_checksums: chunks.map(sha256) });
    expect(missing.status).toBe(400);
    expect((await json(missing)).error.details).toMatchObject({ missing_chunks: [1] });
    await put(id, 1, chunks[1]!);
    const mismatched = await h.post(`/api/v1/chunked-uploads/${id}/finalize`, { chunk_checksums: [sha256(chunks[0]!), sha256(chunks[2]!), sha256(chunks[1]!)] });
    expect(mismatched.status).toBe(400);
    expect((await json(mismatched)).error.details).toMatchObject({ mismatched_chunks: [1, 2] });
    expect((await h.post(`/api/v1/chunked-uploads/${id}/finalize`, { chunk_checksums: [sha256(chunks[0]!)] })).status).toBe(400);
    const badAction = await h.post(`/api/v1/chunked-uploads/${id}/finalize`, { chunk_checksums: chunks.map(sha256), process: { action_id: 'nope' } });
    expect((await json(badAction)).error.code).toBe('INVALID_ACTION');
    expect(await mediaCount()).toBe(before);
    expect((await json(await h.fetch(`/api/v1/chunked-uploads/${id}`))).status).toBe('receiving');
  });

  test('a whole-file SHA-256 that does not match, or a file that is not media, fails finalize and keeps nothing', async () => {
    const before = await mediaCount();
    for (const [file, declared, code] of [
      [noiseWav(6 * MIB), sha256(Buffer.from('not this')), 'VALIDATION_ERROR'],
      [Buffer.alloc(6 * MIB, 1), undefined, 'INVALID_FILE_TYPE'],
    ] as const) {
      const chunks = chunksOf(file);
      const { id } = await init(file, declared ? { sha256: declared } : {});
      for (const [n, c] of chunks.entries()) expect((await put(id, n, c)).status).toBe(200);
      const res = await h.post(`/api/v1/chunked-uploads/${id}/finalize`, { chunk_checksums: chunks.map(sha256) });
      expect(res.status).toBe(400);
      expect((await json(res)).error.code).toBe(code);
      expect(await leftovers(id)).toEqual([]);
      expect((await json(await h.fetch(`/api/v1/chunked-uploads/${id}`))).status).toBe('failed');
    }
    expect(await mediaCount()).toBe(before);
  });

  test('a declared size over the limit is 413, a chunk size below 5 MiB is 400; nothing is created', async () => {
    const tooBig = await h.post('/api/v1/chunked-uploads', { filename: 'x.wav', file_size: h.config.media.audio.maxFileSizeBytes + 1, chunk_size: CHUNK });
    expect(tooBig.status).toBe(413);
    expect((await json(tooBig)).error.code).toBe('FILE_TOO_LARGE');
    const small = await h.post('/api/v1/chunked-uploads', { filename: 'x.wav', file_size: 20 * MIB, chunk_size: MIB });
    expect(small.status).toBe(400);
    const count = await h.post('/api/v1/chunked-uploads', { filename: 'x.wav', file_size: 20 * MIB, chunk_size: CHUNK, total_chunks: 3 });
    expect(count.status).toBe(400);
  });

  test('abandoning a chunked upload removes its parts', async () => {
    const file = noiseWav(11 * MIB);
    const { id } = await init(file);
    await put(id, 0, chunksOf(file)[0]!);
    expect(await leftovers(id)).not.toEqual([]);
    expect((await h.fetch(`/api/v1/chunked-uploads/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await leftovers(id)).toEqual([]);
    expect((await h.fetch(`/api/v1/chunked-uploads/${id}`)).status).toBe(404);
  });
});

/** Reads an SSE response until it ends; returns its events. */
async function readEvents(res: Response): Promise<{ event: string; data: any }[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((block) => block.startsWith('event: '))
    .map((block) => {
      const [event, data] = block.split('\n');
      return { event: event!.slice(7), data: JSON.parse(data!.slice(6)) };
    });
}

describe('upload progress events', () => {
  test('a tus PATCH streaming slowly shows its progress, then the media id', async () => {
    const file = noiseWav(6 * MIB);
    const res = await h.fetch('/api/v1/uploads', { method: 'POST', headers: { ...TUS, 'upload-length': String(file.length) } });
    const id = res.headers.get('location')!.split('/').pop()!;
    const events = h.fetch(`/api/v1/uploads/${id}/events`).then(readEvents);
    // 6 pieces, 700 ms apart: progress is recorded, and the stream polled, every 500 ms while they
    // arrive, so several partial counts are seen even when a poll or a write runs late.
    const pieces = Array.from({ length: 6 }, (_, i) => file.subarray(i * MIB, (i + 1) * MIB));
    const body = new ReadableStream({
      async pull(c) {
        const next = pieces.shift();
        if (!next) return c.close();
        await new Promise((r) => setTimeout(r, 700));
        c.enqueue(new Uint8Array(next));
      },
    });
    const patched = await h.fetch(`/api/v1/uploads/${id}`, {
      method: 'PATCH',
      headers: { ...TUS, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(patched.status).toBe(204);
    const got = await events;
    const progress = got.filter((e) => e.event === 'upload_progress').map((e) => e.data);
    const partial = progress.filter((p) => p.bytes_processed > 0 && p.bytes_processed < file.length);
    expect(partial.length).toBeGreaterThanOrEqual(2);
    expect(partial.every((p) => p.total_bytes === file.length && p.fraction === p.bytes_processed / file.length)).toBe(true);
    expect(progress.map((p) => p.bytes_processed)).toEqual([...progress.map((p) => p.bytes_processed)].sort((a, b) => a - b));
    expect(got.at(-1)).toEqual({ event: 'upload_completed', data: { upload_id: id, media_id: patched.headers.get('mediaflow-media-id') } });
  });

  test('a plain multipart upload sent with X-Upload-Id can be followed, even when subscribed to first', async () => {
    const file = noiseWav(20 * MIB);
    const uploadId = `mp-${crypto.randomUUID()}`;
    const events = h.fetch(`/api/v1/uploads/${uploadId}/events`).then(readEvents);
    await new Promise((r) => setTimeout(r, 300));
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(file)], { type: 'audio/wav' }), 'x.wav');
    const up = await h.fetch('/api/v1/media/upload', { method: 'POST', headers: { 'x-upload-id': uploadId }, body: form });
    expect(up.status).toBe(201);
    const media = await json(up);
    const got = await events;
    expect(got.at(-1)).toEqual({ event: 'upload_completed', data: { upload_id: uploadId, media_id: media.id } });
    expect(got.filter((e) => e.event === 'upload_progress').at(-1)!.data).toMatchObject({ bytes_processed: file.length });
    // The id is taken now: reusing it is a conflict.
    const reuse = await h.fetch('/api/v1/media/upload', { method: 'POST', headers: { 'x-upload-id': uploadId }, body: form });
    expect(reuse.status).toBe(409);
  });

  test("another organization's upload id is 404, at once", async () => {
    const other = await h.newTenant();
    const res = await h.fetch('/api/v1/uploads', { method: 'POST', headers: { ...TUS, 'upload-length': '100' } });
    const id = res.headers.get('location')!.split('/').pop()!;
    const started = Date.now();
    expect((await other.fetch(`/api/v1/uploads/${id}/events`)).status).toBe(404);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('expiry', () => {
  test('expired incomplete uploads lose their parts and answer 404', async () => {
    const file = noiseWav(11 * MIB);
    const created = await h.fetch('/api/v1/uploads', { method: 'POST', headers: { ...TUS, 'upload-length': String(file.length) } });
    const tusId = created.headers.get('location')!.split('/').pop()!;
    await h.fetch(`/api/v1/uploads/${tusId}`, {
      method: 'PATCH',
      headers: { ...TUS, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
      body: new Uint8Array(file.subarray(0, 6 * MIB)),
    });
    const chunked = await json(await h.post('/api/v1/chunked-uploads', { filename: 'x.wav', file_size: file.length, chunk_size: 5 * MIB }));
    const c0 = file.subarray(0, 5 * MIB);
    await h.fetch(`/api/v1/chunked-uploads/${chunked.id}/chunks/0`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream', 'x-chunk-sha256': sha256(c0) }, body: new Uint8Array(c0) });
    expect(await leftovers(tusId)).not.toEqual([]);
    expect(await leftovers(chunked.id)).not.toEqual([]);

    // Not yet expired: untouched.
    await cleanUpExpiredUploads({ orm: h.common.orm, config: h.config, temp });
    expect(await leftovers(tusId)).not.toEqual([]);

    const later = new Date(Date.now() + h.config.uploads.expiryMs + 60_000);
    const result = await cleanUpExpiredUploads({ orm: h.common.orm, config: h.config, temp, now: () => later });
    expect(result.expired).toBeGreaterThanOrEqual(2);
    expect(await leftovers(tusId)).toEqual([]);
    expect(await leftovers(chunked.id)).toEqual([]);
    expect((await h.fetch(`/api/v1/uploads/${tusId}`, { method: 'HEAD', headers: TUS })).status).toBe(404);
    expect((await h.fetch(`/api/v1/chunked-uploads/${chunked.id}`)).status).toBe(404);
  });
});

test('the schema of the upload tables matches the entities (no pending diff)', async () => {
  const diff = await h.common.orm.schema.getUpdateSchemaSQL({ wrap: false });
  expect(diff.split('\n').filter((l) => /"(upload_sessions|upload_chunks)"/.test(l))).toEqual([]);
});
