// The SSRF vectors of URL imports with the default (empty) allow-list: literal private,
// loopback, link-local and metadata addresses are refused at submission; a name that resolves
// to one fails the import without any connection to the server behind it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MediaFileSchema, MediaImportSchema } from '#entities/index.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';

let h: Harness;
let server: Server;
let port: number;
let hits = 0;

beforeAll(async () => {
  server = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'image/jpeg' }).end(Buffer.from([0xff, 0xd8, 0xff, 0xe0]));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  h = await startHarness({ worker: true, env: { IMPORT_ALLOWED_CIDRS: '' } });
});
afterAll(async () => {
  await h?.stop();
  server?.close();
});

const json = async (res: Response) => (await res.json()) as Record<string, any>;
const imports = () => h.common.orm.em.fork().count(MediaImportSchema, { organization: h.tenant.organizationId });

test.each([
  `http://127.0.0.1:PORT/x.jpg`,
  'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
  `http://[::ffff:127.0.0.1]:PORT/x.jpg`,
  'http://[::ffff:7f00:1]/x.jpg',
  'http://[::1]/x.jpg',
  'http://10.0.0.1/x.jpg',
  'http://0.0.0.0/x.jpg',
  'http://2130706433/x.jpg', // 127.0.0.1 as one number
  'http://0x7f.1/x.jpg',
  'http://[fe80::1]/x.jpg',
  'http://192.168.1.1/x.jpg',
  'http://[fec0::1]/x.jpg', // site-local
  'http://[2002:7f00:1::]/x.jpg', // 6to4 of 127.0.0.1
  'http://[64:ff9b:1::a9fe:a9fe]/x.jpg', // local-use NAT64
  'http://[::7f00:1]/x.jpg', // IPv4-compatible
  'http://[::ffff:0:a9fe:a9fe]/x.jpg', // IPv4-translated
])('%s is refused at submission, nothing recorded', async (raw) => {
  const before = await imports();
  const res = await h.post('/api/v1/media/import', { url: raw.replace('PORT', String(port)) });
  const body = await json(res);
  expect({ status: res.status, code: body.error?.code, field: body.error?.details?.fields?.[0]?.field }).toEqual({ status: 400, code: 'VALIDATION_ERROR', field: 'url' });
  expect(await imports()).toBe(before);
  expect(hits).toBe(0);
});

test('a name resolving to a loopback address fails the import with BLOCKED_ADDRESS, without a connection', async () => {
  const res = await h.post('/api/v1/media/import', { url: `http://localhost:${port}/x.jpg` });
  expect(res.status).toBe(202);
  const { id } = await json(res);
  const done = await waitFor(async () => {
    const r = await json(await h.fetch(`/api/v1/media/imports/${id}`));
    return r.status === 'failed' || r.status === 'completed' ? r : undefined;
  });
  expect(done).toMatchObject({ status: 'failed', media_id: null, error: { code: 'BLOCKED_ADDRESS' } });
  // The reason names the caller's host, never the address it resolved to.
  expect(done.error.message).toContain('localhost');
  expect(done.error.message).not.toMatch(/127\.0\.0\.1|::1|::ffff/);
  expect(await h.common.orm.em.fork().count(MediaFileSchema, { id })).toBe(0);
  expect(hits).toBe(0);
});
