// Usage metering (one row per request, one per job step, written once even when activities
// retry), GET /api/v1/usage and /usage/detailed against the jobs actually run, and the retention
// Schedule removing expired media.
import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { IdempotencyKeySchema, MediaFileSchema } from '#entities/index.js';
import { recordStepUsage } from '#domain/usage.js';
import { stepCredits } from '#lib/credits.js';
import { ensureRetentionSchedule } from '#worker/retention-schedule.js';
import { startFakeAiServer, type FakeAiServer } from './support/fake-ai-server.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { stepRuns } from './support/history.js';
import { makeJpeg } from './support/media.js';
import type { ApiClient, Tenant } from './support/tenants.js';

let h: Harness;
let fake: FakeAiServer;
beforeAll(async () => {
  fake = await startFakeAiServer();
  h = await startHarness({ worker: true, env: fake.env });
});
afterAll(async () => {
  await h?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

type Json = Record<string, any>;
const json = async (res: Response): Promise<Json> => (await res.json()) as Json;
const png = (color: string) => sharp({ create: { width: 120, height: 90, channels: 3, background: color } }).png().toBuffer();

/** A client that counts the requests it makes. */
function counting(c: ApiClient): ApiClient & { count: number } {
  const counted = {
    count: 0,
    fetch: (path: string, init?: RequestInit) => ((counted.count += 1), c.fetch(path, init)),
    post: (path: string, body: unknown) => ((counted.count += 1), c.post(path, body)),
    upload: (body: Buffer, filename: string, type?: string) => ((counted.count += 1), c.upload(body, filename, type)),
  };
  return counted;
}

async function runJob(c: ApiClient, mediaId: string, actionId: string, parameters: Record<string, unknown> = {}): Promise<Json> {
  const res = await c.post('/api/v1/process', { media_id: mediaId, action_id: actionId, parameters });
  expect(res.status).toBe(202);
  const { id } = await json(res);
  return waitFor(async () => {
    const job = await json(await c.fetch(`/api/v1/jobs/${id}`));
    return ['completed', 'failed'].includes(job.status) ? job : undefined;
  });
}

const stepRows = (jobId: string) =>
  h.common.orm.em.fork().execute<{ n: string; tokens: number | null; credits: string }[]>(
    `select count(*) over () as n, ai_tokens_used as tokens, credits_used as credits from usage_records where job_id = ?`,
    [jobId],
  );

test('usage tables match their entities (no pending schema diff)', async () => {
  const diff = await h.common.orm.schema.getUpdateSchemaSQL({ wrap: false });
  expect(diff.split('\n').filter((l) => /"(usage_records|idempotency_keys)"/.test(l))).toEqual([]);
});

describe('usage totals', () => {
  let t: Tenant;
  let key: ReturnType<typeof counting>;
  const uploads: Json[] = [];
  const jobs: Json[] = [];
  /** Tokens the fake provider billed for the img_describe job. */
  let tokens = 0;

  beforeAll(async () => {
    t = await h.newTenant({ name: 'Metered org' });
    key = counting(t);
    for (const color of ['#a00', '#0a0', '#00a']) {
      const res = await key.upload(await png(color), `${color.slice(1)}.png`, 'image/png');
      expect(res.status).toBe(201);
      uploads.push(await json(res));
    }
    jobs.push(await runJob(key, uploads[0]!.id, 'img_resize', { width: 40 }));
    jobs.push(await runJob(key, uploads[1]!.id, 'img_resize', { width: 30, format: 'webp' }));
    jobs.push(await runJob(key, uploads[1]!.id, 'img_metadata'));
    fake.reset();
    jobs.push(await runJob(key, uploads[2]!.id, 'img_describe'));
    tokens = fake.requests.filter((r) => r.status === 200).reduce((s, r) => s + r.usage!.input + r.usage!.output, 0);
    expect(jobs.map((j) => j.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    // A refused request is metered too, as an error.
    expect((await key.fetch(`/api/v1/jobs/${randomUUID()}`)).status).toBe(404);
    await key.fetch(`/api/v1/media/${uploads[0]!.id}/download`).then((r) => r.arrayBuffer());
  });

  const catalogue = async () => new Map(((await json(await t.bearer.fetch('/api/v1/actions'))).actions as Json[]).map((a) => [a.action_id, a.category]));

  test('GET /usage adds up the requests and jobs that were run', async () => {
    const categories = await catalogue();
    expect(tokens).toBeGreaterThan(0);
    const inputSize = (j: Json) => uploads.find((u) => u.id === j.media_id)!.file_size_bytes as number;
    const outputSize = (j: Json) => (j.result.type === 'file' ? (j.result.file_size_bytes as number) : Buffer.byteLength(JSON.stringify(j.result.data)));
    const expectedCredits = jobs.reduce((s, j) => s + stepCredits(categories.get(j.action_id), j.action_id === 'img_describe' ? tokens : 0, true), 0);
    const fileResults = jobs.filter((j) => j.result.type === 'file');

    // Request rows are written in batches after each response: wait for the last one (made with the key;
    // reads below use the bearer token), then read the totals, so they cannot miss a row flushed in between.
    await waitFor(async () => {
      const perKey = await json(await t.bearer.fetch('/api/v1/usage/detailed?group_by=api_key'));
      return perKey.groups.find((g: Json) => g.key === t.apiKeyId)?.requests === key.count ? true : undefined;
    });
    const usage = await json(await t.bearer.fetch('/api/v1/usage'));
    expect(usage).toMatchObject({
      jobs: { total: 4, by_status: { completed: 4, failed: 0, queued: 0, processing: 0, pending: 0, cancelled: 0 } },
      steps: 4,
      bytes_uploaded: uploads.reduce((s, u) => s + u.file_size_bytes, 0),
      bytes_downloaded: uploads[0]!.file_size_bytes,
      bytes_processed: jobs.reduce((s, j) => s + inputSize(j), 0),
      bytes_produced: jobs.reduce((s, j) => s + outputSize(j), 0),
      ai_tokens: tokens,
      storage: {
        files: uploads.length + fileResults.length,
        used_bytes: uploads.reduce((s, u) => s + u.file_size_bytes, 0) + fileResults.reduce((s, j) => s + j.result.file_size_bytes, 0),
      },
    });
    expect(usage.credits).toBeCloseTo(expectedCredits, 4);
    expect(usage.requests.total).toBeGreaterThanOrEqual(key.count);
    expect(usage.requests.errors).toBeGreaterThanOrEqual(1);
    const month = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1));
    expect(usage.period.from).toBe(month.toISOString());

    // A period that ends before anything happened is empty.
    const empty = await json(await t.bearer.fetch(`/api/v1/usage?from=2020-01-01&to=2020-02-01`));
    expect(empty).toMatchObject({ requests: { total: 0 }, jobs: { total: 0 }, steps: 0, credits: 0 });
  });

  test('GET /usage/detailed groups by action, day and API key', async () => {
    const categories = await catalogue();
    const byAction = await json(await t.bearer.fetch('/api/v1/usage/detailed?group_by=action'));
    const expected = new Map<string, number>();
    for (const j of jobs) expected.set(j.action_id, (expected.get(j.action_id) ?? 0) + 1);
    expect(byAction.groups.map((g: Json) => [g.key, g.steps, g.requests])).toEqual(
      [...expected].sort(([a], [b]) => a.localeCompare(b)).map(([action, steps]) => [action, steps, 0]),
    );
    const resize = byAction.groups.find((g: Json) => g.key === 'img_resize');
    expect(resize.credits).toBeCloseTo(2 * stepCredits(categories.get('img_resize'), 0, true), 4);

    const byDay = await json(await t.bearer.fetch('/api/v1/usage/detailed'));
    expect(byDay.group_by).toBe('day');
    expect(byDay.groups).toHaveLength(1);
    expect(byDay.groups[0]).toMatchObject({ key: new Date().toISOString().slice(0, 10), steps: 4 });

    const byKey = await json(await t.bearer.fetch('/api/v1/usage/detailed?group_by=api_key'));
    expect(byKey.groups.find((g: Json) => g.key === t.apiKeyId)).toMatchObject({ requests: key.count, steps: 4 });
    // Signed-in (bearer) requests have no key.
    expect(byKey.groups.find((g: Json) => g.key === null).requests).toBeGreaterThan(0);

    expect((await t.bearer.fetch('/api/v1/usage/detailed?group_by=month')).status).toBe(400);
    expect((await t.bearer.fetch('/api/v1/usage?from=2030-01-01&to=2020-01-01')).status).toBe(400);
  });

  test('request rows name the route template, method, status and caller', async () => {
    const rows = await h.common.orm.em.fork().execute<Json[]>(
      `select endpoint, http_method, response_status, action_type, api_key_id, user_id, request_ip, file_size_bytes, media_type
         from usage_records where organization_id = ? and action_type <> 'PROCESS'`,
      [t.organizationId],
    );
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ endpoint: '/api/v1/jobs/:id', http_method: 'GET', response_status: 404, action_type: 'API_CALL', api_key_id: t.apiKeyId }),
        expect.objectContaining({ endpoint: '/api/v1/media/upload', http_method: 'POST', response_status: 201, action_type: 'UPLOAD', media_type: 'image' }),
        expect.objectContaining({ endpoint: '/api/v1/media/:id/download', action_type: 'DOWNLOAD', response_status: 200 }),
      ]),
    );
    expect(rows.every((r) => r.user_id === t.userId && r.request_ip)).toBe(true);
  });
});

describe('one usage row per step', () => {
  test('a step that Temporal retried is recorded once', async () => {
    const media = await json(await h.upload(await png('#ff0'), 'yellow.png', 'image/png'));
    fake.failNext('anthropic', 'server_error');
    const job = await runJob(h, media.id, 'img_describe');
    expect(job.status).toBe('completed');
    expect(fake.requests.map((r) => r.status)).toEqual([500, 200]);
    expect(await stepRuns(h.temporal, job.workflow_id)).toBe(2);
    const rows = await stepRows(job.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.tokens).toBe(fake.requests[1]!.usage!.input + fake.requests[1]!.usage!.output);
  });

  test('recording a step again (a retried bookkeeping activity) keeps one row with the same values', async () => {
    const media = await json(await h.upload(await makeJpeg(20, 20), 'again.jpg', 'image/jpeg'));
    const job = await runJob(h, media.id, 'img_metadata');
    const [before] = await stepRows(job.id);
    expect(before!.n).toBe('1');
    const record = (succeeded: boolean) =>
      h.common.orm.em.fork().transactional((em) =>
        recordStepUsage(em as never, {
          organizationId: h.tenant.organizationId,
          jobId: job.id,
          stepIndex: 0,
          actionId: 'img_metadata',
          actionCategory: 'process',
          mediaType: 'image',
          bytesIn: 1,
          bytesOut: 1,
          processingTimeMs: 1,
          succeeded,
        }),
      );
    await record(true);
    await record(true);
    expect(await stepRows(job.id)).toEqual([{ n: '1', tokens: null, credits: String(before!.credits) }]);

    // A step whose first attempt failed (recorded, 0 credits) and whose job retry then succeeded is
    // billed for the success, once.
    await h.common.orm.em.fork().execute('delete from usage_records where job_id = ?', [job.id]);
    await record(false);
    expect(Number((await stepRows(job.id))[0]!.credits)).toBe(0);
    await record(true);
    const after = await stepRows(job.id);
    expect(after).toHaveLength(1);
    expect(Number(after[0]!.credits)).toBe(stepCredits('process', 0, true));
  });
});

describe('retention', () => {
  test("uploads expire after the organization's retention_days, else the server default", async () => {
    const t = await h.newTenant({ name: 'Short retention' });
    const days = (m: Json) => (Date.parse(m.expires_at) - Date.parse(m.created_at)) / 86_400_000;
    const before = await json(await t.upload(await makeJpeg(8, 8), 'a.jpg', 'image/jpeg'));
    expect(days(before)).toBeCloseTo(h.config.organizationDefaults.retentionDays, 3);
    await h.common.orm.em.fork().execute(`update organizations set settings = '{"quotas": {"retention_days": 2}}' where id = ?`, [t.organizationId]);
    const after = await json(await t.upload(await makeJpeg(8, 8), 'b.jpg', 'image/jpeg'));
    expect(days(after)).toBeCloseTo(2, 3);
  });

  test('the Schedule removes expired objects and rows; expired files are 404 before that', async () => {
    const em = () => h.common.orm.em.fork();
    const loose = await json(await h.upload(await makeJpeg(40, 40), 'loose.jpg', 'image/jpeg'));
    expect((await h.fetch(`/api/v1/media/${loose.id}/thumbnail`)).status).toBe(200);
    const used = await json(await h.upload(await makeJpeg(40, 40), 'used.jpg', 'image/jpeg'));
    // The worker makes every uploaded image's thumbnail: wait for it, so it is among the objects below.
    await waitFor(async () => ((await h.fetch(`/api/v1/media/${used.id}/thumbnail`)).status === 200 ? true : undefined));
    const job = await runJob(h, used.id, 'img_resize', { width: 10 });
    const kept = await json(await h.upload(await makeJpeg(40, 40), 'kept.jpg', 'image/jpeg'));
    const resultRow = await em().findOneOrFail(MediaFileSchema, { storagePath: { $like: `%/jobs/${job.id}/%` } });
    const rows = await em().find(MediaFileSchema, { id: { $in: [loose.id, used.id, resultRow.id] } });
    const objects = rows.flatMap((r) => [r.storagePath, ...(r.thumbnailPath ? [r.thumbnailPath] : [])]);
    // Both uploads with their thumbnails, and the job's result.
    expect(objects.length).toBe(5);

    const past = new Date(Date.now() - 60_000);
    await em().nativeUpdate(MediaFileSchema, { id: { $in: [loose.id, used.id, resultRow.id] } }, { expiresAt: past });
    await em().insert(IdempotencyKeySchema, {
      organization: h.tenant.organizationId, key: `old-${randomUUID()}`, operation: 'submitJob', fingerprint: null,
      state: 'done', responseStatus: 202, responseHeaders: null, responseBody: null, expiresAt: past,
    });
    // Rate-limit counters: one whose window ended two hours ago, one still live.
    const counter = `test-${randomUUID()}`;
    await em().execute('insert into rate_limits (key, points, expire) values (?, 1, ?), (?, 1, ?)', [
      `${counter}-old`, Date.now() - 7_200_000, `${counter}-live`, Date.now() + 60_000,
    ]);
    expect((await h.fetch(`/api/v1/media/${loose.id}`)).status).toBe(404);

    const scheduleId = `retention-test-${randomUUID()}`;
    const config = { ...h.config, retention: { ...h.config.retention, scheduleId, sweepIntervalSeconds: 3600 } };
    await ensureRetentionSchedule(h.temporal, config);
    await ensureRetentionSchedule(h.temporal, config); // a second worker starting: no error, one schedule
    const schedule = h.temporal.schedule.getHandle(scheduleId);
    try {
      expect((await schedule.describe()).spec.intervals).toMatchObject([{ every: 3_600_000 }]);
      await schedule.trigger();
      await waitFor(async () => ((await em().count(MediaFileSchema, { id: loose.id })) === 0 ? true : undefined), 60_000);
      await waitFor(async () => ((await em().count(IdempotencyKeySchema, { expiresAt: { $lte: new Date() } })) === 0 ? true : undefined), 30_000);
      // The counters go in the sweep's next statement, a moment after the keys: wait for the old one.
      const counterKeys = async () =>
        (await em().execute<{ key: string }[]>('select key from rate_limits where key like ? order by key', [`${counter}-%`])).map((r) => r.key);
      await waitFor(async () => ((await counterKeys()).length === 1 ? true : undefined), 30_000);
      expect(await counterKeys()).toEqual([`${counter}-live`]);
    } finally {
      await schedule.delete();
    }
    for (const key of objects) expect(await h.common.storage.stat(key)).toBeNull();
    // Files a job refers to stay as tombstones, so the job keeps its history.
    const tombstones = await em().find(MediaFileSchema, { id: { $in: [used.id, resultRow.id] } });
    expect(tombstones.map((r) => r.status)).toEqual(['deleted', 'deleted']);
    expect(await json(await h.fetch(`/api/v1/jobs/${job.id}`))).toMatchObject({ id: job.id, status: 'completed', media_id: used.id });
    expect((await h.fetch(`/api/v1/media/${used.id}`)).status).toBe(404);
    // What has not expired is untouched.
    expect((await h.fetch(`/api/v1/media/${kept.id}/download`)).status).toBe(200);
  });
});
