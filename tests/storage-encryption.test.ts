// Encryption at rest: what reaches the object store is ciphertext, reads authenticate it, and master
// keys rotate without rewriting content. Runs against the MinIO started by global-setup.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { loadConfig, type Config } from '#lib/config.js';
import { ENVELOPE_META, SEGMENT_SIZE } from '#lib/envelope.js';
import { createStorage } from '#lib/storage.js';
import { rewrapStorage } from '#lib/storage-rewrap.js';
import { rawBucket } from './support/s3.js';

const config = loadConfig(process.env);
const raw = rawBucket(config.s3);
const run = randomBytes(4).toString('hex');
const key = (name: string) => `crypto-test/${run}/${name}`;
const k1 = `k1:${randomBytes(32).toString('base64')}`;
const k2 = `k2:${randomBytes(32).toString('base64')}`;
const s3With = (env: Record<string, string>): Config['s3'] => loadConfig({ ...process.env, ...env }).s3;
const storage = createStorage(config.s3);

beforeAll(() => storage.ensureBucket());

const rawBytes = (k: string) => raw.bytes(k);
const rawMeta = async (k: string) => (await raw.head(k)).metadata;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('what the object store holds is not the plaintext, and the envelope is in the metadata', async () => {
  const marker = Buffer.from(`MEDIAFLOW-PLAINTEXT-MARKER-${run}`);
  const body = Buffer.concat([marker, randomBytes(100_000), marker]);
  await storage.put(key('marker-buffer'), body, 'text/plain');
  await storage.put(key('marker-stream'), Readable.from([body.subarray(0, 7), body.subarray(7)]), 'text/plain');
  for (const k of [key('marker-buffer'), key('marker-stream')]) {
    const stored = await rawBytes(k);
    expect(stored.includes(marker)).toBe(false);
    expect(stored.length).toBeGreaterThan(body.length);
    expect(String((await rawMeta(k))[ENVELOPE_META])).toMatch(new RegExp(`^v1;kid=${config.s3.masterKeys[0]!.id};wk=`));
    expect(await buffer(await storage.get(k))).toEqual(body);
    expect(await storage.stat(k)).toEqual({ size: body.length, contentType: 'text/plain' });
  }
});

test.each([0, 1, SEGMENT_SIZE - 1, SEGMENT_SIZE, SEGMENT_SIZE + 1, 2 * SEGMENT_SIZE, 10 * 1024 * 1024])(
  'round trip of %i bytes, as a buffer and as a stream of odd-sized chunks',
  async (size) => {
    const body = randomBytes(size);
    await storage.put(key(`size-${size}-b`), body, 'application/octet-stream');
    const chunks: Buffer[] = [];
    for (let o = 0; o < size; o += 7919) chunks.push(body.subarray(o, o + 7919));
    await storage.put(key(`size-${size}-s`), Readable.from(chunks), 'application/octet-stream');
    for (const k of [key(`size-${size}-b`), key(`size-${size}-s`)]) {
      expect(sha(await buffer(await storage.get(k)))).toBe(sha(body));
      expect((await storage.stat(k))?.size).toBe(size);
    }
  },
);

async function rewriteRaw(k: string, mutate: (b: Buffer) => Buffer) {
  const meta = await rawMeta(k);
  const stored = mutate(await rawBytes(k));
  await raw.put(k, stored, { metadata: { [ENVELOPE_META]: String(meta[ENVELOPE_META]) } });
}
const readAll = async (k: string) => buffer(await storage.get(k));

test('one altered byte, a cut at a segment boundary or within a segment, or altered metadata: the read fails', async () => {
  const body = randomBytes(3 * SEGMENT_SIZE + 100);
  const cases: [string, (b: Buffer) => Buffer][] = [
    ['flip', (b) => { const c = Buffer.from(b); c[SEGMENT_SIZE + 5]! ^= 1; return c; }],
    ['cut-boundary', (b) => b.subarray(0, 3 * (SEGMENT_SIZE + 16))],
    ['cut-middle', (b) => b.subarray(0, b.length - 50)],
    ['drop-tail', (b) => b.subarray(0, 10)],
    ['empty', () => Buffer.alloc(0)],
  ];
  for (const [name, mutate] of cases) {
    await storage.put(key(`tamper-${name}`), body, 'application/octet-stream');
    await rewriteRaw(key(`tamper-${name}`), mutate);
    await expect(readAll(key(`tamper-${name}`))).rejects.toThrow(/corrupt|truncated/);
  }
  // A wrapped key moved onto another object's envelope (other nonce prefix) does not unwrap.
  await storage.put(key('meta-a'), body, 'application/octet-stream');
  await storage.put(key('meta-b'), body, 'application/octet-stream');
  const a = String((await rawMeta(key('meta-a')))[ENVELOPE_META]);
  const b = String((await rawMeta(key('meta-b')))[ENVELOPE_META]);
  const swapped = b.replace(/wk=[^;]+/, a.match(/wk=[^;]+/)![0]);
  const stored = await rawBytes(key('meta-b'));
  await raw.put(key('meta-b'), stored, { metadata: { [ENVELOPE_META]: swapped } });
  await expect(storage.get(key('meta-b'))).rejects.toThrow(/does not unwrap/);
});

test('an object stored before encryption existed is read as it is, unless encryption is required', async () => {
  const body = Buffer.from('written before encryption');
  await raw.put(key('legacy'), body, { contentType: 'text/plain' });
  expect(await readAll(key('legacy'))).toEqual(body);
  expect((await storage.stat(key('legacy')))?.size).toBe(body.length);
  const strict = createStorage(s3With({ STORAGE_REQUIRE_ENCRYPTION: 'true' }));
  await expect(strict.get(key('legacy'))).rejects.toThrow(/not encrypted/);
});

test('rotation: old objects stay readable, rewrap moves them to the new key without rewriting content, then the old key can go', async () => {
  const prefix = `crypto-test/${run}/rotation/`;
  const underK1 = createStorage(s3With({ STORAGE_MASTER_KEYS: k1 }));
  const old = randomBytes(SEGMENT_SIZE * 2 + 3);
  await underK1.put(`${prefix}old`, old, 'image/png');
  const before = await rawBytes(`${prefix}old`);

  const rotated = s3With({ STORAGE_MASTER_KEYS: `${k2},${k1}` });
  const underK2 = createStorage(rotated);
  const fresh = randomBytes(1000);
  await underK2.put(`${prefix}new`, fresh, 'image/png');
  expect(String((await rawMeta(`${prefix}new`))[ENVELOPE_META])).toContain('kid=k2;');
  expect(await buffer(await underK2.get(`${prefix}old`))).toEqual(old);
  // Without k1 the old object cannot be read yet.
  const onlyK2 = createStorage(s3With({ STORAGE_MASTER_KEYS: k2 }));
  await expect(onlyK2.get(`${prefix}old`)).rejects.toThrow(/"k1" is not in the keyring/);

  const report = await rewrapStorage(rotated, { prefix });
  expect(report).toEqual({ rewrapped: 1, current: 1, plaintext: 0, failed: [] });
  expect(await rawBytes(`${prefix}old`)).toEqual(before); // content untouched
  const { metadata, contentType } = await raw.head(`${prefix}old`);
  expect(String(metadata[ENVELOPE_META])).toContain('kid=k2;');
  expect(contentType).toBe('image/png');

  expect(await buffer(await onlyK2.get(`${prefix}old`))).toEqual(old);
  expect(await buffer(await onlyK2.get(`${prefix}new`))).toEqual(fresh);
  expect(await rewrapStorage(rotated, { prefix })).toEqual({ rewrapped: 0, current: 2, plaintext: 0, failed: [] });
});

test('a 200 MiB object streams through put and get with bounded memory', async () => {
  const total = 200 * 1024 * 1024;
  const chunk = randomBytes(1024 * 1024);
  let peak = 0;
  const baseline = process.memoryUsage().rss;
  const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss - baseline)), 20);
  try {
    const source = Readable.from((function* () { for (let sent = 0; sent < total; sent += chunk.length) yield chunk; })());
    await storage.put(key('big'), source, 'application/octet-stream');
    let received = 0;
    for await (const c of await storage.get(key('big'))) received += (c as Buffer).length;
    expect(received).toBe(total);
  } finally {
    clearInterval(sample);
  }
  expect(peak).toBeLessThan(64 * 1024 * 1024);
}, 120_000);

afterAll(async () => {
  await raw.remove(await raw.keys(`crypto-test/${run}/`));
});
