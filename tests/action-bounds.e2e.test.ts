// Actions are bounded by what the upload measured and by the platform's limits: img_resize never
// asks for (or makes) an image over max_resolution, and ffmpeg actions read at most the duration
// the upload measured plus a margin, whatever the file itself would decode to.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { MediaFileSchema } from '#entities/index.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { makeWav } from './support/wav.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ worker: true, env: { MAX_IMAGE_RESOLUTION: '4096', AUDIO_DURATION_MARGIN_SECONDS: '2' } });
});
afterAll(async () => {
  await h?.stop();
});

const json = async (res: Response) => (await res.json()) as Record<string, any>;
const png = (w: number, hgt: number) => sharp({ create: { width: w, height: hgt, channels: 3, background: '#336699' } }).png().toBuffer();
const finished = (jobId: string) =>
  waitFor(async () => {
    const job = await json(await h.fetch(`/api/v1/jobs/${jobId}`));
    return ['completed', 'failed', 'cancelled'].includes(job.status) ? job : undefined;
  }, 120_000);

test('img_resize parameters that ask for more than max_resolution are refused at submission', async () => {
  const media = await json(await h.upload(await png(20, 1000), 'thin.png', 'image/png'));
  const submit = (body: Record<string, unknown>) => h.post('/api/v1/process', { media_id: media.id, ...body });

  // A side over the limit, even one the schema allows.
  const wide = await submit({ action_id: 'img_resize', parameters: { width: 5000 } });
  expect(wide.status).toBe(400);
  expect((await json(wide)).error).toMatchObject({ code: 'VALIDATION_ERROR', details: { fields: [{ field: 'parameters.width' }] } });
  // Within the limit, but this input would come out 2000x100000.
  const thin = await submit({ action_id: 'img_resize', parameters: { width: 2000 } });
  expect(thin.status).toBe(400);
  expect((await json(thin)).error.details.fields[0].message).toMatch(/2000x100000/);
  // A later step (its input unknown until then) is still checked against the limit.
  const later = await submit({ steps: [{ action_id: 'img_metadata' }, { action_id: 'img_resize', parameters: { height: 9000 } }] });
  expect(later.status).toBe(400);
  expect((await json(later)).error.details.fields[0].field).toBe('steps[1].parameters.height');

  const fine = await submit({ action_id: 'img_resize', parameters: { height: 4000 } });
  expect(fine.status).toBe(202);
  const job = await finished((await json(fine)).id);
  expect(job.status).toBe('completed');
});

test('an ffmpeg action reads no more than the duration measured at upload, plus the margin', async () => {
  const media = await json(await h.upload(await makeWav(2), 'short.wav', 'audio/wav'));
  expect(media.metadata.duration_seconds).toBeCloseTo(2, 1);
  // The stored file now decodes to a minute: as a file whose header and packets disagree with what
  // it decodes to would. The action must stop at 2 s + 2 s, not process the whole.
  const row = await h.common.orm.em.fork().findOneOrFail(MediaFileSchema, { id: media.id });
  await h.common.storage.put(row.storagePath, await makeWav(60), 'audio/wav');
  const res = await h.post('/api/v1/process', { media_id: media.id, action_id: 'aud_format_convert', parameters: { format: 'flac' } });
  expect(res.status).toBe(202);
  const job = await finished((await json(res)).id);
  expect(job.status).toBe('completed');
  const artifacts = await json(await h.fetch(`/api/v1/jobs/${job.id}/artifacts`));
  const file = await h.fetch(`/api/v1/jobs/${job.id}/artifacts/${artifacts.artifacts[0].id}`);
  const seconds = await durationOf(Buffer.from(await file.arrayBuffer()));
  expect(seconds).toBeGreaterThan(3.5);
  expect(seconds).toBeLessThan(4.5);
});

async function durationOf(bytes: Buffer): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'mf-bounds-'));
  try {
    const path = join(dir, 'f');
    await writeFile(path, bytes);
    const { stdout } = await promisify(execFile)('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', path]);
    return Number(stdout.trim());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
