// The job lifecycle against real Temporal, MinIO, Postgres, sharp and ffmpeg: pipelines and their
// artifacts, cancel and retry as updates, progress and its SSE stream, search attributes, and the
// reconciliation of a job whose workflow an operator terminated.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { keys } from '#lib/storage.js';
import { FAKE_DESCRIPTION, startFakeAiServer, type FakeAiServer } from './support/fake-ai-server.js';
import { childProcesses, makeAudio, noise } from './support/audio.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';

const RETRY_WINDOW_S = 6;
let h: Harness;
let fake: FakeAiServer;
let dir: string;
beforeAll(async () => {
  fake = await startFakeAiServer();
  dir = await mkdtemp(join(tmpdir(), 'mf-lifecycle-'));
  h = await startHarness({
    worker: true,
    env: { ...fake.env, JOB_RETRY_WINDOW: `${RETRY_WINDOW_S}s`, JOB_RECONCILE_INTERVAL: '1s', JOB_RECONCILE_GRACE: '2s' },
  });
});
afterAll(async () => {
  await h?.stop();
  await fake?.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => fake.reset());

const json = async (res: Response) => (await res.json()) as Record<string, any>;
const getJob = async (id: string) => json(await h.fetch(`/api/v1/jobs/${id}`));
const settled = (id: string, statuses = ['completed', 'failed', 'cancelled'], timeoutMs = 90_000) =>
  waitFor(async () => {
    const j = await getJob(id);
    return statuses.includes(j.status) ? j : undefined;
  }, timeoutMs);
async function uploadImage(width = 640, height = 480, name = 'photo.jpg') {
  return json(await h.upload(await makeJpeg(width, height), name, 'image/jpeg'));
}
async function history(jobId: string) {
  return (await h.temporal.workflow.getHandle(`job-${jobId}`).fetchHistory()).events ?? [];
}
const scheduled = (events: Awaited<ReturnType<typeof history>>, activity: string) =>
  events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity).length;

/** Reads an SSE stream to its end: the events with their ids. */
async function readEvents(jobId: string, lastEventId?: string) {
  const res = await h.fetch(`/api/v1/jobs/${jobId}/events`, { headers: lastEventId ? { 'last-event-id': lastEventId } : {} });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((frame) => frame.startsWith('id: '))
    .map((frame) => {
      const field = (name: string) => frame.split('\n').find((l) => l.startsWith(`${name}: `))!.slice(name.length + 2);
      return { id: field('id'), event: field('event'), data: JSON.parse(field('data')) as Record<string, any> };
    });
}

describe('pipelines', () => {
  test('a three-step job completes and lists an artifact per step, each downloadable', async () => {
    const media = await uploadImage(640, 480, 'holiday.jpg');
    const submitted = await h.post('/api/v1/process', {
      media_id: media.id,
      steps: [
        { action_id: 'img_resize', parameters: { width: 320 } },
        { action_id: 'img_format_convert', parameters: { format: 'png' } },
        { action_id: 'img_metadata' },
      ],
    });
    expect(submitted.status).toBe(202);
    const job = await json(submitted);
    expect(job).toMatchObject({ action_id: 'img_resize', total_steps: 3 });

    const done = await settled(job.id);
    expect(done).toMatchObject({ status: 'completed', progress: 1, current_step: 2, total_steps: 3, eta_seconds: null });
    expect(done.steps.map((s: any) => [s.index, s.action_id, s.status, s.attempts])).toEqual([
      [0, 'img_resize', 'completed', 1],
      [1, 'img_format_convert', 'completed', 1],
      [2, 'img_metadata', 'completed', 1],
    ]);
    for (const s of done.steps) expect(Date.parse(s.completed_at)).toBeGreaterThanOrEqual(Date.parse(s.started_at));

    const { artifacts } = await json(await h.fetch(`/api/v1/jobs/${job.id}/artifacts`));
    expect(artifacts.map((a: any) => [a.step_index, a.type, a.mime_type ?? null])).toEqual([
      [0, 'file', 'image/jpeg'],
      [1, 'file', 'image/png'],
      [2, 'json', null],
    ]);
    const resized = await h.fetch(new URL(artifacts[0].download_url).pathname);
    expect(resized.status).toBe(200);
    expect(await sharp(Buffer.from(await resized.arrayBuffer())).metadata()).toMatchObject({ format: 'jpeg', width: 320, height: 240 });
    const converted = Buffer.from(await (await h.fetch(new URL(artifacts[1].download_url).pathname)).arrayBuffer());
    expect(converted.length).toBe(artifacts[1].file_size_bytes);
    expect(await sharp(converted).metadata()).toMatchObject({ format: 'png', width: 320, height: 240 });
    // The metadata step read the converted PNG, not the original JPEG.
    const metadata = await json(await h.fetch(new URL(artifacts[2].download_url).pathname));
    expect(metadata).toMatchObject({ format: 'png', width: 320, height: 240 });
    // The job's result is the last step's.
    expect(await json(await h.fetch(`/api/v1/jobs/${job.id}/result`))).toEqual(metadata);
    // The file artifacts are media files of the organization.
    expect((await h.fetch(`/api/v1/media/${artifacts[1].media_id}`)).status).toBe(200);
    const other = await h.fetch(`/api/v1/jobs/${job.id}/artifacts/${media.id}`);
    expect(other.status).toBe(404);
  });

  test('each step must fit the media type flowing into it, and its parameters its schema', async () => {
    const media = await uploadImage(64, 64);
    const wrongType = await h.post('/api/v1/process', {
      media_id: media.id,
      steps: [{ action_id: 'img_resize', parameters: { width: 32 } }, { action_id: 'aud_trim', parameters: { start: 0, end: 1 } }],
    });
    expect(wrongType.status).toBe(400);
    expect((await json(wrongType)).error).toMatchObject({ code: 'INVALID_ACTION', details: { step: 1, media_type: 'image' } });

    const badParams = await h.post('/api/v1/process', {
      media_id: media.id,
      steps: [{ action_id: 'img_resize', parameters: { width: 32 } }, { action_id: 'img_resize', parameters: { width: -1 } }],
    });
    expect(badParams.status).toBe(400);
    const body = await json(badParams);
    expect(body.error.code).toBe('VALIDATION_ERROR');
    expect(body.error.details.fields[0].field).toMatch(/^steps\[1\]\.parameters/);

    const tooMany = await h.post('/api/v1/process', { media_id: media.id, steps: Array.from({ length: 11 }, () => ({ action_id: 'img_metadata' })) });
    expect(tooMany.status).toBe(400);
    const both = await h.post('/api/v1/process', { media_id: media.id, action_id: 'img_metadata', steps: [{ action_id: 'img_metadata' }] });
    expect(both.status).toBe(400);
    const neither = await h.post('/api/v1/process', { media_id: media.id });
    expect(neither.status).toBe(400);
  });

  test('jobs are routed by input size; the SSE stream shows progress to the end and resumes after Last-Event-ID', async () => {
    const media = await uploadImage(320, 240);
    const job = await json(await h.post('/api/v1/process', { media_id: media.id, steps: [{ action_id: 'img_resize', parameters: { width: 100 } }, { action_id: 'img_metadata' }] }));
    const events = await readEvents(job.id);
    const ids = events.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    expect(events.at(-1)).toMatchObject({ event: 'status', data: { status: 'completed', progress: 1 } });
    expect(events.filter((e) => e.event === 'status').map((e) => e.data.status)).toEqual(['queued', 'processing', 'completed']);
    const progress = events.filter((e) => e.event === 'progress').map((e) => e.data.progress as number);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));

    const resumed = await readEvents(job.id, events[1]!.id);
    expect(resumed.map((e) => e.id)).toEqual(events.slice(2).map((e) => e.id));
    expect(await readEvents(job.id, events.at(-1)!.id)).toEqual([]);

    const description = await h.temporal.workflow.getHandle(`job-${job.id}`).describe();
    expect(description.taskQueue).toBe(`${h.config.temporal.taskQueue}-high`);
    expect(description.memo).toMatchObject({ input_filename: 'photo.jpg' });
  });

  test('a job is found by organization and status through the Temporal visibility API', async () => {
    const media = await uploadImage(64, 64);
    const job = await json(await h.post('/api/v1/process', { media_id: media.id, action_id: 'img_metadata' }));
    await settled(job.id);
    const query = `MediaflowOrganizationId='${h.tenant.organizationId}' AND MediaflowJobStatus='completed' AND MediaflowActionIds='img_metadata'`;
    const found = await waitFor(async () => {
      for await (const w of h.temporal.workflow.list({ query })) if (w.workflowId === `job-${job.id}`) return w;
      return undefined;
    }, 30_000, 500);
    expect(found.searchAttributes).toMatchObject({ MediaflowMediaType: ['image'] });
  });
});

describe('cancel', () => {
  let wavId: string;
  beforeAll(async () => {
    // Ten minutes of noise (26 MB of WAV): converting it takes long enough to cancel mid-way.
    const wav = await makeAudio(join(dir, 'long.wav'), [noise(600)], { rate: 22050 });
    wavId = (await json(await h.upload(await readFile(wav), 'long.wav', 'audio/wav'))).id;
  }, 120_000);

  test('a long audio job cancelled through the API stops within seconds and leaves nothing behind', async () => {
    const job = await json(await h.post('/api/v1/process', { media_id: wavId, action_id: 'aud_format_convert', parameters: { format: 'mp3' } }));
    await waitFor(async () => ((await getJob(job.id)).progress > 0.12 ? true : undefined), 90_000);
    expect(await childProcesses('ffmpeg')).toHaveLength(1);

    const started = Date.now();
    const res = await h.post(`/api/v1/jobs/${job.id}/cancel`, { reason: 'changed my mind' });
    expect(res.status).toBe(200);
    const cancelled = await json(res);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(cancelled).toMatchObject({ status: 'cancelled', cancel_reason: 'changed my mind', cancelled_by: expect.stringMatching(/^(api_key|user):/) });
    expect(Date.parse(cancelled.cancelled_at)).toBeGreaterThanOrEqual(started - 1000);
    expect(cancelled.steps[0].status).toBe('cancelled');
    expect(await childProcesses('ffmpeg')).toEqual([]);
    expect(await h.common.storage.stat(keys.result(h.tenant.organizationId, job.id, 'mp3'))).toBeNull();
    expect((await json(await h.fetch(`/api/v1/jobs/${job.id}/artifacts`))).artifacts).toEqual([]);
    const description = await h.temporal.workflow.getHandle(`job-${job.id}`).describe();
    expect(description.taskQueue).toBe(`${h.config.temporal.taskQueue}-low`);

    const again = await h.post(`/api/v1/jobs/${job.id}/cancel`, {});
    expect(again.status).toBe(409);
    expect((await json(again)).error.code).toBe('CONFLICT');
    // Ended now: DELETE deletes it (tests/job-deletion.e2e.test.ts).
    expect((await h.fetch(`/api/v1/jobs/${job.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await h.fetch(`/api/v1/jobs/${job.id}`)).status).toBe(404);
  }, 120_000);

  test('a cancel from Temporal (an operator in the Web UI) also ends the job cancelled', async () => {
    const job = await json(await h.post('/api/v1/process', { media_id: wavId, action_id: 'aud_format_convert', parameters: { format: 'ogg' } }));
    await waitFor(async () => ((await getJob(job.id)).progress > 0.12 ? true : undefined), 90_000);
    await h.temporal.workflow.getHandle(`job-${job.id}`).cancel();
    const done = await settled(job.id, ['completed', 'failed', 'cancelled'], 20_000);
    expect(done).toMatchObject({ status: 'cancelled', cancelled_by: 'temporal', cancelled_at: expect.any(String) });
    expect(await childProcesses('ffmpeg')).toEqual([]);
    // The job row is written before the workflow closes: wait for Temporal to record the close.
    const handle = h.temporal.workflow.getHandle(`job-${job.id}`);
    await handle.result().catch(() => undefined);
    expect((await handle.describe()).status.name).toBe('CANCELLED');
  }, 120_000);

  test('cancelling a completed job is 409 (DELETE deletes it instead)', async () => {
    const media = await uploadImage(64, 64);
    const job = await json(await h.post('/api/v1/process', { media_id: media.id, action_id: 'img_metadata' }));
    await settled(job.id);
    const res = await h.post(`/api/v1/jobs/${job.id}/cancel`, {});
    expect(res.status).toBe(409);
    // With the spec's body too: read, not refused as a body the route does not take; an ended job is deleted.
    const withReason = await h.fetch(`/api/v1/jobs/${job.id}`, { method: 'DELETE', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'too late' }) });
    expect(withReason.status).toBe(204);
    expect((await h.fetch(`/api/v1/jobs/${job.id}`)).status).toBe(404);
  });

  test('DELETE with the spec\'s {"reason"} body cancels and records the reason', async () => {
    const job = await json(await h.post('/api/v1/process', { media_id: wavId, action_id: 'aud_format_convert', parameters: { format: 'ogg' } }));
    await waitFor(async () => ((await getJob(job.id)).status === 'processing' ? true : undefined), 90_000);
    const res = await h.fetch(`/api/v1/jobs/${job.id}`, { method: 'DELETE', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'no longer needed' }) });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ status: 'cancelled', cancel_reason: 'no longer needed' });
    expect(await getJob(job.id)).toMatchObject({ status: 'cancelled', cancel_reason: 'no longer needed', cancelled_by: expect.stringMatching(/^(api_key|user):/) });
    // A body that is not the spec's is still refused.
    const bad = await h.fetch(`/api/v1/jobs/${job.id}`, { method: 'DELETE', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reason: 7 }) });
    expect(bad.status).toBe(400);
  }, 120_000);
});

describe('retry', () => {
  async function failingPipeline() {
    const media = await uploadImage(400, 300);
    fake.failNext('anthropic', 'unauthorized');
    const job = await json(await h.post('/api/v1/process', {
      media_id: media.id,
      steps: [{ action_id: 'img_resize', parameters: { width: 200 } }, { action_id: 'img_describe', parameters: { provider: 'anthropic' } }],
    }));
    const failed = await settled(job.id);
    expect(failed).toMatchObject({ status: 'failed', retry_count: 0, error: { code: 'AI_PROVIDER_ERROR' } });
    expect(failed.steps.map((s: any) => s.status)).toEqual(['completed', 'failed']);
    return failed;
  }

  test('a job whose second step failed resumes from it on retry, without re-running the first', async () => {
    const failed = await failingPipeline();
    const runId = (await h.temporal.workflow.getHandle(`job-${failed.id}`).describe()).runId;
    const res = await h.post(`/api/v1/jobs/${failed.id}/retry`, {});
    expect(res.status).toBe(202);
    expect((await json(res)).retry_count).toBe(1);
    const done = await settled(failed.id);
    expect(done).toMatchObject({ status: 'completed', retry_count: 1, result: { type: 'json', data: { caption: FAKE_DESCRIPTION.caption } } });
    expect(done.steps[0]).toEqual(failed.steps[0]);
    expect(done.steps[1]).toMatchObject({ status: 'completed', attempts: 2 });
    // One workflow run: the first step's activity was scheduled once, the second twice.
    const handle = h.temporal.workflow.getHandle(`job-${failed.id}`);
    expect((await handle.describe()).runId).toBe(runId);
    expect(scheduled(await history(failed.id), 'runJobStep')).toBe(3);
    expect((await json(await h.fetch(`/api/v1/jobs/${failed.id}/artifacts`))).artifacts).toHaveLength(2);

    const again = await h.post(`/api/v1/jobs/${failed.id}/retry`, {});
    expect(again.status).toBe(409);
  }, 120_000);

  test('after the retry window a retry starts a new run that reuses the stored outputs', async () => {
    const failed = await failingPipeline();
    const handle = h.temporal.workflow.getHandle(`job-${failed.id}`);
    const first = await handle.describe();
    await waitFor(async () => ((await handle.describe()).status.name === 'FAILED' ? true : undefined), (RETRY_WINDOW_S + 30) * 1000, 500);
    const res = await h.post(`/api/v1/jobs/${failed.id}/retry`, {});
    expect(res.status).toBe(202);
    const done = await settled(failed.id);
    expect(done).toMatchObject({ status: 'completed', retry_count: 1 });
    expect(done.steps[0]).toEqual(failed.steps[0]);
    const second = await handle.describe();
    expect(second.runId).not.toBe(first.runId);
    // The new run scheduled only the second step.
    expect(scheduled(await history(failed.id), 'runJobStep')).toBe(1);
  }, 120_000);

  test('retrying a job that has not failed is 409, and the maximum is enforced', async () => {
    const media = await uploadImage(64, 64);
    const job = await json(await h.post('/api/v1/process', { media_id: media.id, action_id: 'img_metadata' }));
    await settled(job.id);
    const res = await h.post(`/api/v1/jobs/${job.id}/retry`, {});
    expect(res.status).toBe(409);
    expect((await json(res)).error.code).toBe('CONFLICT');

    const failed = await failingPipeline();
    await h.common.orm.em.fork().execute(`update processing_jobs set retry_count = max_retries where id = ?`, [failed.id]);
    const exhausted = await h.post(`/api/v1/jobs/${failed.id}/retry`, {});
    expect(exhausted.status).toBe(409);
    expect((await json(exhausted)).error.details).toMatchObject({ max_retries: 3 });
  }, 60_000);
});

describe('reconciliation', () => {
  test('a job whose workflow an operator terminated becomes failed with a reason', async () => {
    fake.enqueue('anthropic', { status: 200, body: {}, delayMs: 8_000 });
    const media = await uploadImage(64, 64);
    const job = await json(await h.post('/api/v1/process', { media_id: media.id, action_id: 'img_describe', parameters: { provider: 'anthropic' } }));
    await settled(job.id, ['processing']);
    await h.temporal.workflow.getHandle(`job-${job.id}`).terminate('stuck');
    const failed = await settled(job.id, ['completed', 'failed', 'cancelled'], 30_000);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'WORKFLOW_TERMINATED', message: 'workflow terminated by an operator' } });
  }, 60_000);
});
