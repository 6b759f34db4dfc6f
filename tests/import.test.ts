// Import from a URL, against loopback test servers. The allow-list holds 127.0.0.1/32 only, so
// the first server is reachable while 127.0.0.2 (also loopback on Linux, where a second server
// really listens) stays refused: a redirect there must be refused without a connection to it.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MediaFileSchema } from '#entities/index.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';

const MAX = 256 * 1024;
let h: Harness;
let jpeg: Buffer;
let origin: Server;
let inner: Server;
let originUrl: string;
let innerUrl: string;
let innerHits = 0;

function listen(server: Server, host: string): Promise<string> {
  return new Promise((resolve) => server.listen(0, host, () => resolve(`http://${host}:${(server.address() as AddressInfo).port}`)));
}

beforeAll(async () => {
  jpeg = await makeJpeg(120, 80);
  // Pretends to be a public server: serves files, redirects, and an endless "image".
  origin = createServer((req, res) => {
    if (req.url === '/photo.jpg') return void res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.length }).end(jpeg);
    if (req.url === '/hop') return void res.writeHead(302, { location: '/photo.jpg' }).end();
    if (req.url === '/to-private') return void res.writeHead(302, { location: `${innerUrl}/photo.jpg` }).end();
    if (req.url === '/to-metadata') return void res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    if (req.url === '/loop') return void res.writeHead(302, { location: '/loop' }).end();
    if (req.url === '/missing') return void res.writeHead(404).end('no');
    if (req.url === '/endless') {
      // A JPEG header, then filler without end and without a Content-Length.
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.write(jpeg.subarray(0, 4100));
      const chunk = Buffer.alloc(64 * 1024, 7);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
      return;
    }
    if (req.url === '/declared-big') return void res.writeHead(200, { 'content-length': MAX * 4 }).end();
    res.writeHead(404).end();
  });
  inner = createServer((_req, res) => {
    innerHits++;
    res.writeHead(200, { 'content-type': 'image/jpeg' }).end(jpeg);
  });
  originUrl = await listen(origin, '127.0.0.1');
  innerUrl = await listen(inner, '127.0.0.2');
  h = await startHarness({ worker: true, env: { IMPORT_ALLOWED_CIDRS: '127.0.0.1/32', IMPORT_MAX_BYTES: String(MAX), IMPORT_MAX_REDIRECTS: '3' } });
});
afterAll(async () => {
  await h?.stop();
  origin?.closeAllConnections();
  origin?.close();
  inner?.close();
});

const json = async (res: Response) => (await res.json()) as Record<string, any>;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function runImport(body: Record<string, unknown>): Promise<Record<string, any>> {
  const res = await h.post('/api/v1/media/import', body);
  const accepted = await json(res);
  expect({ status: res.status, accepted }).toMatchObject({ status: 202, accepted: { status: 'pending' } });
  expect(res.headers.get('location')).toBe(`${h.url}/api/v1/media/imports/${accepted.id}`);
  return waitFor(async () => {
    const r = await json(await h.fetch(`/api/v1/media/imports/${accepted.id}`));
    return r.status === 'completed' || r.status === 'failed' ? r : undefined;
  });
}

async function expectRefused(done: Record<string, any>, code: string) {
  expect(done).toMatchObject({ status: 'failed', media_id: null, error: { code } });
  expect(await h.common.orm.em.fork().count(MediaFileSchema, { id: done.id })).toBe(0);
  expect((await h.fetch(`/api/v1/media/${done.id}`)).status).toBe(404);
}

test('a file is imported through a redirect, with the checksums of the bytes served', async () => {
  const done = await runImport({ url: `${originUrl}/hop` });
  expect(done).toMatchObject({ status: 'completed', media_id: done.id, job_id: null });
  const media = await json(await h.fetch(`/api/v1/media/${done.media_id}`));
  expect(media).toMatchObject({ media_type: 'image', mime_type: 'image/jpeg', file_size_bytes: jpeg.length, checksum_sha256: sha256(jpeg), original_filename: 'photo.jpg' });
  const bytes = Buffer.from(await (await h.fetch(`/api/v1/media/${done.media_id}/download`)).arrayBuffer());
  expect(bytes.equals(jpeg)).toBe(true);
});

test('an import with `process` submits the job on the imported file', async () => {
  const done = await runImport({ url: `${originUrl}/photo.jpg`, filename: 'named.jpg', process: { action_id: 'img_resize', parameters: { width: 24 } } });
  expect(done.status).toBe('completed');
  expect(done.job_id).toEqual(expect.any(String));
  const job = await waitFor(async () => {
    const j = await json(await h.fetch(`/api/v1/jobs/${done.job_id}`));
    return j.status === 'completed' || j.status === 'failed' ? j : undefined;
  });
  expect(job).toMatchObject({ status: 'completed', media_id: done.media_id, action_id: 'img_resize' });
  expect((await json(await h.fetch(`/api/v1/media/${done.media_id}`))).original_filename).toBe('named.jpg');
});

test('a redirect to a refused address fails the import without connecting to it', async () => {
  await expectRefused(await runImport({ url: `${originUrl}/to-private` }), 'BLOCKED_ADDRESS');
  await expectRefused(await runImport({ url: `${originUrl}/to-metadata` }), 'BLOCKED_ADDRESS');
  expect(innerHits).toBe(0);
  // Not for lack of a server: the refused address answers anyone who may connect to it.
  expect((await fetch(`${innerUrl}/photo.jpg`)).status).toBe(200);
  expect(innerHits).toBe(1);
});

test('oversize downloads are stopped at the limit, declared or not', async () => {
  await expectRefused(await runImport({ url: `${originUrl}/endless` }), 'FILE_TOO_LARGE');
  await expectRefused(await runImport({ url: `${originUrl}/declared-big` }), 'FILE_TOO_LARGE');
});

test('other failures are clear error codes', async () => {
  await expectRefused(await runImport({ url: `${originUrl}/missing` }), 'IMPORT_HTTP_ERROR');
  await expectRefused(await runImport({ url: `${originUrl}/loop` }), 'TOO_MANY_REDIRECTS');
  // An audio action on an image: refused before anything is stored.
  await expectRefused(await runImport({ url: `${originUrl}/photo.jpg`, process: { action_id: 'aud_analyze', parameters: {} } }), 'INVALID_FILE_TYPE');
});

test('bad requests are refused at once', async () => {
  for (const body of [
    { url: 'ftp://example.com/x.jpg' },
    { url: 'not a url' },
    { url: 'http://user:pw@example.com/x.jpg' },
    { url: `http://127.0.0.2/x.jpg` },
    { url: `${originUrl}/photo.jpg`, process: { action_id: 'img_resize', parameters: { width: -1 } } },
  ]) {
    const res = await h.post('/api/v1/media/import', body);
    expect({ body, status: res.status, code: (await json(res)).error?.code }).toEqual({ body, status: 400, code: 'VALIDATION_ERROR' });
  }
  const unknown = await h.post('/api/v1/media/import', { url: `${originUrl}/photo.jpg`, process: { action_id: 'img_nope' } });
  expect(unknown.status).toBe(400);
  expect((await json(unknown)).error.code).toBe('INVALID_ACTION');
});
