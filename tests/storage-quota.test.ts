// The storage quota counts uploads from the moment they start: presigned, tus and chunked uploads
// reserve their declared size atomically, so parallel pending uploads cannot together exceed it.
import { createHash } from 'node:crypto';
import { OrganizationSchema } from '#entities/index.js';
import { startHarness, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';
import type { Tenant } from './support/tenants.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const MIB = 1024 * 1024;
const SIZE = 100 * MIB;
const json = async (res: Response) => (await res.json()) as Record<string, any>;
const setQuotas = (organizationId: string, quotas: Record<string, unknown>) =>
  h.common.orm.em.fork().nativeUpdate(OrganizationSchema, { id: organizationId }, { settings: { quotas } });

/** Starts an upload of SIZE bytes of the given kind; nothing is sent but the declaration. */
function start(t: Tenant, kind: 'presigned' | 'tus' | 'chunked'): Promise<Response> {
  if (kind === 'presigned') {
    return t.post('/api/v1/media/presign', { filename: 'a.wav', size_bytes: SIZE, content_type: 'audio/wav', sha256: 'a'.repeat(64) });
  }
  if (kind === 'tus') {
    return t.fetch('/api/v1/uploads', { method: 'POST', headers: { 'tus-resumable': '1.0.0', 'upload-length': String(SIZE), 'upload-metadata': 'filename YS53YXY=' } });
  }
  return t.post('/api/v1/chunked-uploads', { filename: 'a.wav', file_size: SIZE, chunk_size: 50 * MIB });
}

test('parallel pending uploads of every kind are admitted only up to the storage quota', async () => {
  const t = await h.newTenant();
  await setQuotas(t.organizationId, { storage_gb: 1 });
  // 1 GiB holds ten uploads of 100 MiB; twelve start at once, four of each kind.
  const kinds = ['presigned', 'tus', 'chunked'] as const;
  const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => start(t, kinds[i % 3]!)));
  const statuses = replies.map((r) => r.status);
  expect(statuses.filter((s) => s === 201)).toHaveLength(10);
  const refused = replies.filter((r) => r.status !== 201);
  expect(refused.map((r) => r.status)).toEqual([403, 403]);
  for (const r of refused) expect((await json(r)).error).toMatchObject({ code: 'LIMIT_EXCEEDED', details: { limit: 'storage_gb' } });

  // A plain upload of a small file still fits in what is left; one whose length does not is refused.
  const small = await makeJpeg(16, 16);
  expect((await t.upload(small, 's.jpg', 'image/jpeg')).status).toBe(201);
  const over = await start(t, 'chunked');
  expect(over.status).toBe(403);

  // Abandoning an upload gives its reservation back.
  const chunked = replies.find((r, i) => kinds[i % 3] === 'chunked' && r.status === 201)!;
  const id = (await json(chunked)).id as string;
  expect((await t.fetch(`/api/v1/chunked-uploads/${id}`, { method: 'DELETE' })).status).toBe(204);
  expect((await start(t, 'tus')).status).toBe(201);
});

test('completing an upload is never refused by its own reservation', async () => {
  const t = await h.newTenant();
  await setQuotas(t.organizationId, { storage_gb: 1 });
  const jpeg = await makeJpeg(64, 64);
  const sha256 = createHash('sha256').update(jpeg).digest('hex');
  const stored = await json(await t.upload(await makeJpeg(16, 16), 's.jpg', 'image/jpeg'));
  const p = await json(await t.post('/api/v1/media/presign', { filename: 'p.jpg', size_bytes: jpeg.length, content_type: 'image/jpeg', sha256 }));
  // The stored file and the pending upload now fill the quota exactly.
  await h.common.orm.em.fork().execute(`update media_files set file_size_bytes = ? where id = ?`, [1024 ** 3 - jpeg.length, stored.id]);
  expect((await fetch(p.url, { method: 'PUT', body: new Uint8Array(jpeg) })).status).toBe(200);
  const done = await t.fetch(`/api/v1/media/${p.id}/complete`, { method: 'POST' });
  expect({ status: done.status, body: await json(done) }).toMatchObject({ status: 200, body: { id: p.id } });
  // Full: the next upload, of any size, is refused.
  const next = await t.post('/api/v1/media/presign', { filename: 'n.jpg', size_bytes: 1, content_type: 'image/jpeg', sha256 });
  expect(next.status).toBe(403);
});
