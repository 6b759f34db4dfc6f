// Chunk PUTs are refused from their headers before their body is read (duplicate, conflict, too
// many in flight), a chunk sent again supersedes its earlier request, and chunk sizes are bounded by configuration.
import { createHash } from 'node:crypto';
import { request, type IncomingMessage } from 'node:http';
import { startHarness, type Harness } from './support/harness.js';
import { noiseWav } from './support/noise-wav.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { CHUNK_MAX_IN_FLIGHT_PER_UPLOAD: '2', CHUNK_MAX_SIZE_MB: '8' } });
});
afterAll(async () => {
  await h?.stop();
});

const MIB = 1024 * 1024;
const CHUNK = 5 * MIB;
const json = async (res: Response) => (await res.json()) as Record<string, any>;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * A chunk PUT whose body is sent only in part and then held open: an answer can only come
 * from the headers. Resolves with the reply (or never, which the test's timeout reports).
 */
function heldPut(id: string, n: number, sha: string): { reply: Promise<{ status: number; body: Record<string, any>; headers: IncomingMessage['headers'] }>; end: () => void } {
  const url = new URL(`${h.url}/api/v1/chunked-uploads/${id}/chunks/${n}`);
  const req = request(url, { method: 'PUT', headers: { 'x-api-key': h.tenant.apiKey, 'x-chunk-sha256': sha, 'content-type': 'application/octet-stream' } });
  req.on('error', () => undefined);
  req.write(Buffer.alloc(64 * 1024, 1));
  const reply = new Promise<{ status: number; body: Record<string, any>; headers: IncomingMessage['headers'] }>((resolve) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: text ? (JSON.parse(text) as Record<string, any>) : {}, headers: res.headers }));
    });
  });
  return { reply, end: () => req.destroy() };
}

async function init(file: Buffer, chunkSize = CHUNK): Promise<string> {
  const res = await h.post('/api/v1/chunked-uploads', { filename: 'x.wav', file_size: file.length, chunk_size: chunkSize });
  expect(res.status).toBe(201);
  return (await json(res)).id as string;
}
const put = (id: string, n: number, body: Buffer) =>
  h.fetch(`/api/v1/chunked-uploads/${id}/chunks/${n}`, { method: 'PUT', headers: { 'x-chunk-sha256': sha256(body), 'content-type': 'application/octet-stream' }, body: new Uint8Array(body) });

test('a chunk already stored is answered from X-Chunk-SHA256 alone: duplicate 200, other content 409', async () => {
  const file = noiseWav(2 * CHUNK);
  const id = await init(file);
  const first = file.subarray(0, CHUNK);
  expect((await put(id, 0, first)).status).toBe(200);

  const same = heldPut(id, 0, sha256(first));
  const again = await same.reply;
  same.end();
  expect(again).toMatchObject({ status: 200, body: { chunk_number: 0, duplicate: true, received_size: CHUNK } });

  const other = heldPut(id, 0, sha256(Buffer.from('other')));
  const conflict = await other.reply;
  other.end();
  expect(conflict).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
});

test('chunks in flight are bounded per upload: one too many is 429 with Retry-After; the same chunk again supersedes the earlier request', async () => {
  const file = noiseWav(4 * CHUNK);
  const id = await init(file);
  const sha = (n: number) => sha256(file.subarray(n * CHUNK, (n + 1) * CHUNK));
  const a = heldPut(id, 0, sha(0));
  const b = heldPut(id, 1, sha(1));
  // Both are being spooled now (the server has their headers); a third waits for nothing.
  await new Promise((r) => setTimeout(r, 500));
  const third = heldPut(id, 2, sha(2));
  const refused = await third.reply;
  third.end();
  expect(refused).toMatchObject({ status: 429, body: { error: { code: 'RATE_LIMITED', details: { reason: 'too_many_chunks_in_flight', limit: 2 } } } });
  expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);

  // Chunk 0 again (a client whose connection dropped, before the server noticed): the earlier
  // request is ended with a 409 and the new one takes its slot, so there are still two in flight.
  const again = heldPut(id, 0, sha(0));
  expect(await a.reply).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT', details: { chunk: 0 } } } });
  a.end();
  await new Promise((r) => setTimeout(r, 500));
  const fourth = heldPut(id, 3, sha(3));
  expect(await fourth.reply).toMatchObject({ status: 429 });
  fourth.end();

  // Once they are gone, the slots are free again.
  again.end();
  b.end();
  await new Promise((r) => setTimeout(r, 500));
  for (const n of [0, 1, 2, 3]) expect((await put(id, n, file.subarray(n * CHUNK, (n + 1) * CHUNK))).status).toBe(200);
});

test('chunk_size is bounded by CHUNK_MAX_SIZE_MB, and so is a one-chunk file', async () => {
  const big = await h.post('/api/v1/chunked-uploads', { filename: 'x.wav', file_size: 40 * MIB, chunk_size: 9 * MIB });
  expect(big.status).toBe(400);
  expect((await json(big)).error.details.fields[0]).toMatchObject({ field: 'chunk_size' });
  const whole = await h.post('/api/v1/chunked-uploads', { filename: 'x.wav', file_size: 9 * MIB, chunk_size: 9 * MIB });
  expect(whole.status).toBe(400);
  expect((await h.post('/api/v1/chunked-uploads', { filename: 'x.wav', file_size: 40 * MIB, chunk_size: 8 * MIB })).status).toBe(201);
});
