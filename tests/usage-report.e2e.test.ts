// The usage report as §12 of the product spec describes it, against jobs actually run (real
// Postgres, Temporal, MinIO, sharp): requests by endpoint, queue wait per job and its statistics,
// error rates and bandwidth, as totals and as a series per day.
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';
import type { ApiClient, Tenant } from './support/tenants.js';

let h: Harness;
let t: Tenant;
const made = { requests: 0, errors: 0 };
const jobs: Record<string, any>[] = [];
let upload: Record<string, any>;

type Json = Record<string, any>;
const json = async (res: Response): Promise<Json> => (await res.json()) as Json;
/** Every request made with the key is counted here, as the report should count it. */
async function call(c: ApiClient, path: string, init?: RequestInit): Promise<Response> {
  made.requests += 1;
  const res = await c.fetch(path, init);
  if (res.status >= 400) made.errors += 1;
  return res;
}

beforeAll(async () => {
  h = await startHarness({ worker: true, env: { USAGE_FLUSH_INTERVAL_MS: '100' } });
  t = await h.newTenant();
  const jpeg = await makeJpeg(320, 240);
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' }), 'report.jpg');
  upload = await json(await call(t, '/api/v1/media/upload', { method: 'POST', body: form }));
  for (let i = 0; i < 3; i++) expect((await call(t, `/api/v1/media/${crypto.randomUUID()}`)).status).toBe(404);
  expect((await call(t, '/api/v1/media?limit=1000')).status).toBe(400);
  for (const action of ['img_metadata', 'img_analyze']) {
    const res = await call(t, '/api/v1/process', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ media_id: upload.id, action_id: action }) });
    const { id } = await json(res);
    jobs.push(
      await waitFor(async () => {
        const j = await json(await call(t, `/api/v1/jobs/${id}`));
        return j.status === 'completed' ? j : undefined;
      }, 90_000),
    );
  }
  const download = await call(t, `/api/v1/media/${upload.id}/download`);
  await download.arrayBuffer();
  // Wait until every request made with the key has been written (reads below use the bearer token).
  await waitFor(async () => {
    const perKey = await json(await t.bearer.fetch('/api/v1/usage/detailed?group_by=api_key'));
    return perKey.groups.find((g: Json) => g.key === t.apiKeyId)?.requests === made.requests ? true : undefined;
  });
}, 180_000);
afterAll(async () => {
  await h?.stop();
});

test('each job has its queue wait (queued to started), and the report sums them up', async () => {
  for (const j of jobs) {
    expect(j.queue_wait_ms).toBeGreaterThanOrEqual(0);
    expect(j.queue_wait_ms).toBe(Date.parse(j.started_at) - Date.parse(j.queued_at ?? j.created_at));
  }
  const waits = jobs.map((j) => j.queue_wait_ms as number);
  const usage = await json(await t.bearer.fetch('/api/v1/usage'));
  expect(usage.jobs.queue_wait).toEqual({
    jobs: 2,
    avg_ms: expect.any(Number),
    p50_ms: expect.any(Number),
    p95_ms: expect.any(Number),
    max_ms: expect.any(Number),
  });
  expect(Math.abs(usage.jobs.queue_wait.max_ms - Math.max(...waits))).toBeLessThanOrEqual(1);
  // The database keeps microseconds: the average is the jobs' own within rounding.
  expect(Math.abs(usage.jobs.queue_wait.avg_ms - (waits[0]! + waits[1]!) / 2)).toBeLessThanOrEqual(1);
});

test('error rates and bandwidth: totals, and per endpoint', async () => {
  const byEndpoint = await json(await t.bearer.fetch('/api/v1/usage/detailed?group_by=endpoint'));
  expect(byEndpoint.group_by).toBe('endpoint');
  const group = (key: string) => byEndpoint.groups.find((g: Json) => g.key === key);
  expect(group('GET /api/v1/media/:id')).toMatchObject({ requests: 3, errors: 3, error_rate: 1, server_errors: 0, steps: 0, queue_wait: null });
  expect(group('GET /api/v1/media')).toMatchObject({ errors: 1, error_rate: 1 });
  expect(group('POST /api/v1/process')).toMatchObject({ requests: 2, errors: 0, error_rate: 0 });
  const uploadGroup = group('POST /api/v1/media/upload');
  expect(uploadGroup.requests).toBe(1);
  expect(uploadGroup.bandwidth.bytes_in).toBeGreaterThan(upload.file_size_bytes);
  expect(group('GET /api/v1/media/:id/download').bandwidth.bytes_out).toBe(upload.file_size_bytes);
  // Keys are method and route template: no id makes a group of its own.
  expect(byEndpoint.groups.every((g: Json) => /^(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS) \/[\w/:.-]*$/.test(g.key))).toBe(true);

  const perKey = await json(await t.bearer.fetch('/api/v1/usage/detailed?group_by=api_key'));
  const mine = perKey.groups.find((g: Json) => g.key === t.apiKeyId);
  expect(mine).toMatchObject({ requests: made.requests, errors: made.errors });
  expect(mine.error_rate).toBeCloseTo(made.errors / made.requests, 4);
  expect(mine.queue_wait.jobs).toBe(2);

  const usage = await json(await t.bearer.fetch('/api/v1/usage'));
  expect(usage.requests.errors).toBeGreaterThanOrEqual(made.errors);
  expect(usage.requests.error_rate).toBeCloseTo(usage.requests.errors / usage.requests.total, 4);
  expect(usage.bandwidth.bytes_in).toBeGreaterThanOrEqual(uploadGroup.bandwidth.bytes_in);
  expect(usage.bandwidth.bytes_out).toBeGreaterThanOrEqual(upload.file_size_bytes);
});

test('the same as a series per day: every day of the period, quiet ones with zeros', async () => {
  const usage = await json(await t.bearer.fetch('/api/v1/usage'));
  const today = new Date().toISOString().slice(0, 10);
  expect(usage.daily).toHaveLength(new Date().getUTCDate());
  const last = usage.daily.at(-1);
  expect(last.date).toBe(today);
  // The series is read after the totals: a batch of usage rows written in between counts in it only.
  expect(last).toMatchObject({ jobs: 2, errors: usage.requests.errors });
  expect(last.requests).toBeGreaterThanOrEqual(usage.requests.total);
  expect(last.bandwidth.bytes_in).toBeGreaterThanOrEqual(usage.bandwidth.bytes_in);
  expect(last.queue_wait_avg_ms).toBe(usage.jobs.queue_wait.avg_ms);
  for (const day of usage.daily.slice(0, -1)) expect(day).toMatchObject({ requests: 0, jobs: 0, error_rate: 0, queue_wait_avg_ms: null });

  const byDay = await json(await t.bearer.fetch('/api/v1/usage/detailed?group_by=day'));
  expect(byDay.groups.find((g: Json) => g.key === today)).toMatchObject({ queue_wait: { jobs: 2 } });

  const february = await json(await t.bearer.fetch('/api/v1/usage?from=2024-02-01&to=2024-03-01'));
  expect(february.daily.map((d: Json) => d.date)).toEqual(Array.from({ length: 29 }, (_, i) => `2024-02-${String(i + 1).padStart(2, '0')}`));
  expect(february.jobs.queue_wait).toEqual({ jobs: 0, avg_ms: null, p50_ms: null, p95_ms: null, max_ms: null });
});
