// The concurrent-jobs quota holds on every path that creates a job, under parallel requests:
// chunked finalize with `process`, and URL imports with `process` (whose job the worker submits).
// (POST /process, pipelines and retries: tests/rate-limits.test.ts.)
import { randomUUID } from 'node:crypto';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OrganizationSchema } from '#entities/index.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';
import type { Tenant } from './support/tenants.js';

let h: Harness;
let origin: Server;
let originUrl: string;
let jpeg: Buffer;
// The worker polls the queue where imports run, not the one small jobs go to: jobs stay queued.
const queue = `test-${randomUUID()}`;
beforeAll(async () => {
  jpeg = await makeJpeg(32, 32);
  origin = createServer((_req, res) => void res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.length }).end(jpeg));
  originUrl = await new Promise((resolve) => origin.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(origin.address() as AddressInfo).port}`)));
  h = await startHarness({ worker: true, env: { TEMPORAL_TASK_QUEUE: queue, WORKER_TASK_QUEUES: queue, IMPORT_ALLOWED_CIDRS: '127.0.0.1/32' } });
});
afterAll(async () => {
  await h?.stop();
  origin?.closeAllConnections();
  origin?.close();
});

const json = async (res: Response) => (await res.json()) as Record<string, any>;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const setQuotas = (organizationId: string, quotas: Record<string, unknown>) =>
  h.common.orm.em.fork().nativeUpdate(OrganizationSchema, { id: organizationId }, { settings: { quotas } });
const jobsOf = async (t: Tenant) =>
  Number((await h.common.orm.em.fork().execute<{ n: string }[]>(`select count(*) as n from processing_jobs where organization_id = ?`, [t.organizationId]))[0]!.n);
const PROCESS = { action_id: 'img_resize', parameters: { width: 8 } };

test('chunked finalize with process: a burst of finalizations admits exactly the quota', async () => {
  const t = await h.newTenant();
  await setQuotas(t.organizationId, { concurrent_jobs: 2 });
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    const up = await json(await t.post('/api/v1/chunked-uploads', { filename: `c${i}.jpg`, file_size: jpeg.length, chunk_size: jpeg.length }));
    const put = await t.fetch(`/api/v1/chunked-uploads/${up.id}/chunks/0`, { method: 'PUT', headers: { 'x-chunk-sha256': sha256(jpeg), 'content-type': 'application/octet-stream' }, body: new Uint8Array(jpeg) });
    expect(put.status).toBe(200);
    ids.push(up.id);
  }
  const replies = await Promise.all(ids.map((id) => t.post(`/api/v1/chunked-uploads/${id}/finalize`, { chunk_checksums: [sha256(jpeg)], process: PROCESS })));
  const statuses = replies.map((r) => r.status).sort();
  expect(statuses).toEqual([201, 201, 429, 429, 429, 429]);
  for (const r of replies.filter((x) => x.status === 429)) expect((await json(r)).error.code).toBe('QUOTA_EXCEEDED');
  expect(await jobsOf(t)).toBe(2);
});

test('URL imports with process: parallel imports create at most the quota of jobs', async () => {
  const t = await h.newTenant();
  await setQuotas(t.organizationId, { concurrent_jobs: 2 });
  // The early check at the door lets all of them through (no job exists yet).
  const replies = await Promise.all(Array.from({ length: 6 }, (_, i) => t.post('/api/v1/media/import', { url: `${originUrl}/p${i}.jpg`, process: PROCESS })));
  expect(replies.map((r) => r.status)).toEqual(Array(6).fill(202));
  const imports = await Promise.all(replies.map(json));
  const settled = await waitFor(async () => {
    const all = await Promise.all(imports.map(async (i) => json(await t.fetch(`/api/v1/media/imports/${i.id}`))));
    return all.every((i) => i.status === 'completed' || i.status === 'failed') ? all : undefined;
  }, 90_000);
  expect(settled.filter((i) => i.status === 'completed' && i.job_id)).toHaveLength(2);
  for (const i of settled.filter((x) => x.status === 'failed')) expect(i.error.code).toBe('QUOTA_EXCEEDED');
  expect(await jobsOf(t)).toBe(2);
});
