// Deleting jobs for good, and retention that covers jobs (real Postgres, MinIO, Temporal, sharp,
// ffmpeg): DELETE of an ended job removes it with its results, artifacts, transcript, search
// entries, events and workflow history; of a running job it cancels. Retention in hours applies
// to jobs and their results, from the organization's setting.
import { WorkflowNotFoundError } from '@temporalio/client';
import { createRetentionActivities } from '#activities/retention.js';
import { FAKE_SPEECH, startFakeAiServer, type FakeAiServer } from './support/fake-ai-server.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';
import type { ApiClient } from './support/tenants.js';
import { makeWav } from './support/wav.js';

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

const json = async (res: Response) => (await res.json()) as Record<string, any>;
const db = () => h.common.orm.em.fork();
const settled = (id: string, as: ApiClient = h) =>
  waitFor(async () => {
    const j = await json(await as.fetch(`/api/v1/jobs/${id}`));
    return ['completed', 'failed', 'cancelled'].includes(j.status) ? j : undefined;
  }, 90_000);
async function run(as: ApiClient, body: Record<string, unknown>) {
  const res = await as.post('/api/v1/process', body);
  expect(res.status).toBe(202);
  const job = await settled((await json(res)).id, as);
  expect(job.status).toBe('completed');
  return job;
}
async function rowsOf(jobId: string) {
  const [row] = await db().execute<Record<string, string>[]>(
    `select (select count(*) from processing_jobs where id = ?) as jobs, (select count(*) from job_steps where job_id = ?) as steps,
            (select count(*) from job_events where job_id = ?) as events`,
    [jobId, jobId, jobId],
  );
  return Object.fromEntries(Object.entries(row!).map(([k, v]) => [k, Number(v)]));
}
/** The stored files a job produced: their rows and whether their objects exist. */
async function resultFiles(jobId: string) {
  return db().execute<{ id: string; storage_path: string; status: string }[]>(
    `select m.id, m.storage_path, m.status from media_files m
      where m.id in (select result_media_id from job_steps where job_id = ? union select result_media_id from processing_jobs where id = ?)`,
    [jobId, jobId],
  );
}

test('an ended job is deleted with its results, artifacts and events; its input stays', async () => {
  const media = await json(await h.upload(await makeJpeg(400, 300), 'input.jpg', 'image/jpeg'));
  const job = await run(h, {
    media_id: media.id,
    steps: [{ action_id: 'img_resize', parameters: { width: 200 } }, { action_id: 'img_format_convert', parameters: { format: 'png' } }],
  });
  const files = await resultFiles(job.id);
  expect(files).toHaveLength(2);
  for (const f of files) expect(await h.common.storage.stat(f.storage_path)).not.toBeNull();
  expect(await rowsOf(job.id)).toMatchObject({ jobs: 1, steps: 2 });
  expect((await rowsOf(job.id)).events).toBeGreaterThan(0);

  const res = await h.fetch(`/api/v1/jobs/${job.id}`, { method: 'DELETE' });
  expect(res.status).toBe(204);
  expect(await rowsOf(job.id)).toEqual({ jobs: 0, steps: 0, events: 0 });
  for (const f of files) {
    expect(await h.common.storage.stat(f.storage_path)).toBeNull();
    expect(await db().execute(`select 1 from media_files where id = ?`, [f.id])).toEqual([]);
  }
  for (const path of [`/api/v1/jobs/${job.id}`, `/api/v1/jobs/${job.id}/result`, `/api/v1/jobs/${job.id}/artifacts`]) {
    const gone = await h.fetch(path);
    expect({ path, status: gone.status, code: (await json(gone)).error.code }).toEqual({ path, status: 404, code: 'NOT_FOUND' });
  }
  expect((await h.fetch(`/api/v1/jobs/${job.id}`, { method: 'DELETE' })).status).toBe(404);
  // Temporal deletes an execution in the background, within moments.
  await waitFor(async () => {
    const gone = await h.temporal.workflow.getHandle(`job-${job.id}`).describe().then(() => false, (err: unknown) => err instanceof WorkflowNotFoundError);
    return gone ? true : undefined;
  }, 60_000, 1000);
  // The upload is the caller's, with its own lifetime.
  expect((await h.fetch(`/api/v1/media/${media.id}/download`)).status).toBe(200);
}, 120_000);

test("a transcription job's transcript and search entry go with it", async () => {
  const media = await json(await h.upload(await makeWav(2), 'meeting.wav'));
  const job = await run(h, { media_id: media.id, action_id: 'aud_transcribe', parameters: { model: 'whisper-1' } });
  const word = FAKE_SPEECH[1]!.split(' ')[1]!.replace(/\W/g, '');
  expect((await h.fetch(`/api/v1/transcriptions/${job.id}`)).status).toBe(200);
  const found = async () => (await json(await h.post('/api/v1/search', { query: word }))).results.map((r: { job_id: string }) => r.job_id);
  expect(await found()).toContain(job.id);

  expect((await h.fetch(`/api/v1/jobs/${job.id}`, { method: 'DELETE' })).status).toBe(204);
  expect((await h.fetch(`/api/v1/transcriptions/${job.id}`)).status).toBe(404);
  expect((await h.fetch(`/api/v1/transcriptions/${job.id}?format=srt`)).status).toBe(404);
  expect(await found()).not.toContain(job.id);
}, 120_000);

test('a result another job took as its input stays for that job, marked deleted', async () => {
  const media = await json(await h.upload(await makeJpeg(300, 200), 'chain.jpg', 'image/jpeg'));
  const first = await run(h, { media_id: media.id, action_id: 'img_resize', parameters: { width: 100 } });
  const result = first.result_media_id ?? (await resultFiles(first.id))[0]!.id;
  const second = await run(h, { media_id: result, action_id: 'img_metadata' });
  expect((await h.fetch(`/api/v1/jobs/${first.id}`, { method: 'DELETE' })).status).toBe(204);
  const [row] = await db().execute<{ status: string }[]>(`select status from media_files where id = ?`, [result]);
  expect(row?.status).toBe('deleted');
  expect((await h.fetch(`/api/v1/jobs/${second.id}`)).status).toBe(200);
}, 120_000);

test('another organization cannot delete the job (404), and it stays', async () => {
  const media = await json(await h.upload(await makeJpeg(64, 64), 'mine.jpg', 'image/jpeg'));
  const job = await run(h, { media_id: media.id, action_id: 'img_metadata' });
  const other = await h.newTenant();
  const res = await other.fetch(`/api/v1/jobs/${job.id}`, { method: 'DELETE' });
  expect(res.status).toBe(404);
  expect(await rowsOf(job.id)).toMatchObject({ jobs: 1, steps: 1 });
});

describe('retention in hours, for jobs as well as media', () => {
  test("a job and its result expire after the organization's retention_hours, and the sweep deletes them", async () => {
    const t = await h.newTenant();
    await db().execute(`update organizations set settings = '{"quotas": {"retention_hours": 2}}' where id = ?`, [t.organizationId]);
    const org = await json(await t.fetch(`/api/v1/organizations/${t.organizationId}`));
    expect(org.quotas).toMatchObject({ retention_hours: 2, retention_days: 1 });

    const upload = await json(await t.upload(await makeJpeg(200, 100), 'short-lived.jpg', 'image/jpeg'));
    const hours = (iso: string, from: number) => (Date.parse(iso) - from) / 3_600_000;
    const submittedAt = Date.now();
    expect(hours(upload.expires_at, submittedAt)).toBeCloseTo(2, 1);
    const job = await run(t, { media_id: upload.id, action_id: 'img_resize', parameters: { width: 50 } });
    const [row] = await db().execute<{ expires_at: string }[]>(`select expires_at from processing_jobs where id = ?`, [job.id]);
    expect(hours(new Date(row!.expires_at).toISOString(), submittedAt)).toBeCloseTo(2, 1);
    const [file] = await resultFiles(job.id);
    const [fileRow] = await db().execute<{ expires_at: string }[]>(`select expires_at from media_files where id = ?`, [file!.id]);
    expect(new Date(fileRow!.expires_at).getTime()).toBe(new Date(row!.expires_at).getTime());

    // An hour later nothing has expired; three hours later the job and everything it made are gone.
    const sweep = (offsetHours: number) =>
      createRetentionActivities({
        orm: h.common.orm,
        storage: h.common.storage,
        clock: { now: () => new Date(Date.now() + offsetHours * 3_600_000) },
        logger: { info: () => undefined } as never,
        retentionDays: h.config.media.retentionDays,
      });
    const early = sweep(1);
    await early.sweepExpiredMedia(100);
    await early.sweepExpiredJobs(100);
    expect(await rowsOf(job.id)).toMatchObject({ jobs: 1, steps: 1 });

    const late = sweep(3);
    await late.sweepExpiredMedia(1000);
    let more = true;
    while (more) more = (await late.sweepExpiredJobs(1000)).more;
    expect(await rowsOf(job.id)).toEqual({ jobs: 0, steps: 0, events: 0 });
    expect(await h.common.storage.stat(file!.storage_path)).toBeNull();
    expect(await db().execute(`select 1 from media_files where id = ?`, [file!.id])).toEqual([]);
    // The upload went with it (no job refers to it any more, so on the next sweep its row goes too).
    expect((await t.fetch(`/api/v1/media/${upload.id}`)).status).toBe(404);
  }, 120_000);

  test('a job still running is not swept, however old', async () => {
    const media = await json(await h.upload(await makeJpeg(64, 64), 'busy.jpg', 'image/jpeg'));
    await db().execute(
      `insert into processing_jobs (id, organization_id, input_media_id, action_id, action_category, status, expires_at)
       values (gen_random_uuid(), ?, ?, 'img_metadata', 'process', 'processing', now() - interval '1 day')`,
      [h.tenant.organizationId, media.id],
    );
    const [busy] = await db().execute<{ id: string }[]>(`select id from processing_jobs where input_media_id = ? and status = 'processing'`, [media.id]);
    const activities = createRetentionActivities({ orm: h.common.orm, storage: h.common.storage, clock: { now: () => new Date() }, logger: { info: () => undefined } as never, retentionDays: 30 });
    let more = true;
    while (more) more = (await activities.sweepExpiredJobs(1000)).more;
    expect(await rowsOf(busy!.id)).toMatchObject({ jobs: 1 });
    await db().execute(`update processing_jobs set status = 'failed' where id = ?`, [busy!.id]);
    more = true;
    while (more) more = (await activities.sweepExpiredJobs(1000)).more;
    expect(await rowsOf(busy!.id)).toMatchObject({ jobs: 0 });
  });
});
