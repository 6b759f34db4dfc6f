// GET /api/v1/jobs and GET /api/v1/media: filters, order, keyset pagination that stays stable
// while rows are added, tenant scoping; DELETE /api/v1/media/{id}.
import sharp from 'sharp';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';
import { makeWav } from './support/wav.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ worker: true });
});
afterAll(async () => {
  await h?.stop();
});

type Json = Record<string, any>;
const json = async (res: Response): Promise<Json> => (await res.json()) as Json;

async function upload(bytes: Buffer, name: string, client = h): Promise<Json> {
  const res = await client.upload(bytes, name);
  expect(res.status).toBe(201);
  return json(res);
}

async function submit(mediaId: string, actionId: string, parameters: Record<string, unknown> = {}): Promise<string> {
  const res = await h.post('/api/v1/process', { media_id: mediaId, action_id: actionId, parameters });
  expect(res.status).toBe(202);
  return (await json(res)).id;
}

const finished = (id: string) =>
  waitFor(async () => {
    const job = await json(await h.fetch(`/api/v1/jobs/${id}`));
    return ['completed', 'failed'].includes(job.status) ? job : undefined;
  });

/** Every page of a list, following next_cursor; `between` runs after each page. */
async function allPages(path: string, between: () => Promise<void> = async () => undefined): Promise<Json[][]> {
  const pages: Json[][] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res = await h.fetch(`${path}${cursor ? `${sep}cursor=${cursor}` : ''}`);
    expect(res.status).toBe(200);
    const body = await json(res);
    pages.push(body.data);
    cursor = body.next_cursor;
    await between();
  } while (cursor);
  return pages;
}

const ids = (rows: Json[]) => rows.map((r) => r.id as string);

describe('jobs and media lists', () => {
  let png: Json;
  let jpeg: Json;
  let wav: Json;
  /** Submission order. */
  const jobs: { id: string; mediaId: string; actionId: string }[] = [];

  beforeAll(async () => {
    png = await upload(await sharp({ create: { width: 64, height: 48, channels: 3, background: '#0a0' } }).png().toBuffer(), 'green.png');
    jpeg = await upload(await makeJpeg(80, 60), 'photo.jpg');
    wav = await upload(await makeWav(1), 'tone.wav');
    for (const [media, action, params] of [
      [png, 'img_resize', { width: 16 }],
      [jpeg, 'img_metadata', {}],
      [png, 'img_metadata', {}],
      [wav, 'aud_analyze', {}],
      [jpeg, 'img_resize', { width: 20 }],
    ] as const) {
      jobs.push({ id: await submit(media.id, action, params), mediaId: media.id, actionId: action });
    }
    for (const j of jobs) expect((await finished(j.id)).status).toBe('completed');
  });

  test('jobs: newest first by default, oldest first with order=asc', async () => {
    const desc = await json(await h.fetch('/api/v1/jobs'));
    expect(ids(desc.data)).toEqual(jobs.map((j) => j.id).reverse());
    expect(desc.next_cursor).toBeNull();
    expect(desc.data[0]).toMatchObject({ id: jobs[4]!.id, status: 'completed', action_id: 'img_resize', media_id: jpeg.id });
    const asc = await json(await h.fetch('/api/v1/jobs?order=asc'));
    expect(ids(asc.data)).toEqual(jobs.map((j) => j.id));
  });

  test('jobs: each filter keeps exactly the matching jobs', async () => {
    const list = async (q: string) => ids((await json(await h.fetch(`/api/v1/jobs?order=asc&${q}`))).data);
    const where = (pred: (j: (typeof jobs)[number]) => boolean) => jobs.filter(pred).map((j) => j.id);
    expect(await list('action_id=img_metadata')).toEqual(where((j) => j.actionId === 'img_metadata'));
    expect(await list('media_type=audio')).toEqual(where((j) => j.mediaId === wav.id));
    expect(await list('media_type=image')).toEqual(where((j) => j.mediaId !== wav.id));
    expect(await list(`media_id=${png.id}`)).toEqual(where((j) => j.mediaId === png.id));
    expect(await list(`media_id=${png.id}&action_id=img_resize`)).toEqual(where((j) => j.mediaId === png.id && j.actionId === 'img_resize'));
    expect(await list('status=completed')).toEqual(jobs.map((j) => j.id));
    expect(await list('status=failed')).toEqual([]);

    const third = await json(await h.fetch(`/api/v1/jobs/${jobs[2]!.id}`));
    expect(await list(`created_after=${encodeURIComponent(third.created_at)}`)).toEqual(jobs.slice(2).map((j) => j.id));
    expect(await list(`created_before=${encodeURIComponent(third.created_at)}`)).toEqual(jobs.slice(0, 2).map((j) => j.id));
  });

  test('jobs: pages are stable while new jobs are submitted', async () => {
    const before = jobs.map((j) => j.id).reverse();
    const added: string[] = [];
    const pages = await allPages('/api/v1/jobs?limit=2', async () => {
      added.push(await submit(png.id, 'img_metadata'));
    });
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    // Only what existed when paging started, each once, in order: the new jobs are newer than the cursor.
    expect(pages.flatMap(ids)).toEqual(before);
    await Promise.all(added.map(finished));

    // Oldest first, the same walk picks up the new jobs at the end.
    const asc = (await allPages('/api/v1/jobs?order=asc&limit=3')).flatMap(ids);
    expect(asc).toEqual([...jobs.map((j) => j.id), ...added]);
  });

  test('bad list parameters are 400 VALIDATION_ERROR', async () => {
    for (const q of ['limit=0', 'limit=101', 'status=done', 'media_type=video', 'media_id=not-a-uuid', 'created_after=yesterday', 'cursor=%21%21', 'cursor=eyJ4IjoxfQ', 'order=up']) {
      const res = await h.fetch(`/api/v1/jobs?${q}`);
      expect({ q, status: res.status, code: (await json(res)).error?.code }).toEqual({ q, status: 400, code: 'VALIDATION_ERROR' });
    }
    expect((await h.fetch('/api/v1/media?limit=500')).status).toBe(400);
  });

  test('media: uploads and job results, filtered and paged', async () => {
    const all = (await allPages('/api/v1/media?limit=2')).flat();
    expect(all.length).toBeGreaterThanOrEqual(5); // 3 uploads + 2 resize results
    expect(ids(all)).toEqual(expect.arrayContaining([png.id, jpeg.id, wav.id]));
    expect(new Set(ids(all)).size).toBe(all.length);
    const created = all.map((m) => Date.parse(m.created_at));
    expect(created).toEqual([...created].sort((a, b) => b - a));

    const list = async (q: string) => (await json(await h.fetch(`/api/v1/media?limit=100&${q}`))).data as Json[];
    expect(ids(await list('media_type=audio'))).toEqual([wav.id]);
    expect((await list('media_type=image')).every((m) => m.media_type === 'image')).toBe(true);
    expect(ids(await list('mime_type=image/png'))).toContain(png.id);
    expect((await list('mime_type=image/png')).every((m) => m.mime_type === 'image/png')).toBe(true);
    expect(await list('status=failed')).toEqual([]);
    expect(ids(await list(`created_after=${encodeURIComponent(wav.created_at)}&order=asc`))[0]).toBe(wav.id);
  });

  test('another organization sees none of it, and filtering by our ids finds nothing', async () => {
    const other = await h.newTenant({ name: 'Other lister' });
    const theirs = await upload(await makeJpeg(10, 10), 'theirs.jpg', other as unknown as Harness);
    expect((await json(await other.fetch('/api/v1/jobs'))).data).toEqual([]);
    expect(ids((await json(await other.fetch('/api/v1/media'))).data)).toEqual([theirs.id]);
    expect(await json(await other.fetch(`/api/v1/jobs?media_id=${png.id}`))).toEqual({ data: [], next_cursor: null });
    expect((await json(await h.fetch(`/api/v1/jobs?media_id=${theirs.id}`))).data).toEqual([]);
  });

  test('DELETE /media/{id} removes the objects, hides the file and keeps the jobs', async () => {
    const doomed = await upload(await makeJpeg(40, 30), 'doomed.jpg');
    expect((await h.fetch(`/api/v1/media/${doomed.id}/thumbnail`)).status).toBe(200);
    const jobId = await submit(doomed.id, 'img_metadata');
    await finished(jobId);
    const [row] = await h.common.orm.em.fork().execute<{ storage_path: string; thumbnail_path: string }[]>(
      `select storage_path, thumbnail_path from media_files where id = ?`,
      [doomed.id],
    );
    const { storage_path: original, thumbnail_path: thumbnail } = row!;
    expect(await h.common.storage.stat(original)).not.toBeNull();
    expect(thumbnail).toBeTruthy();

    const res = await h.fetch(`/api/v1/media/${doomed.id}`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    for (const path of [`/api/v1/media/${doomed.id}`, `/api/v1/media/${doomed.id}/download`, `/api/v1/media/${doomed.id}/thumbnail`]) {
      expect((await h.fetch(path)).status).toBe(404);
    }
    expect((await h.fetch(`/api/v1/media/${doomed.id}`, { method: 'DELETE' })).status).toBe(404);
    expect(await h.common.storage.stat(original)).toBeNull();
    expect(await h.common.storage.stat(thumbnail)).toBeNull();
    expect(ids((await json(await h.fetch('/api/v1/media?limit=100'))).data)).not.toContain(doomed.id);
    // The job's history stays.
    expect(await json(await h.fetch(`/api/v1/jobs/${jobId}`))).toMatchObject({ id: jobId, status: 'completed', media_id: doomed.id });
    expect(ids((await json(await h.fetch(`/api/v1/jobs?media_id=${doomed.id}`))).data)).toEqual([jobId]);
  });
});
