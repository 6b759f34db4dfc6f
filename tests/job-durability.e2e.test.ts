// A worker process killed with SIGKILL in the middle of a step (ffmpeg running): another worker
// takes the step over once its heartbeat times out, and the job completes with exactly one result
// object and one usage record. Real worker processes (worker/main.ts), Temporal, MinIO, Postgres.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeAudio, noise } from './support/audio.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { rawBucket } from './support/s3.js';
import { spawnWorker, writeWorkflowBundle, type WorkerProcess } from './support/worker-process.js';

let h: Harness;
let dir: string;
let bundlePath: string;
const workers: WorkerProcess[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mf-durability-'));
  h = await startHarness();
  bundlePath = await writeWorkflowBundle(join(dir, 'workflow-bundle.js'));
}, 120_000);
afterAll(async () => {
  for (const w of workers) await w.kill('SIGKILL');
  await h?.stop();
  await rm(dir, { recursive: true, force: true });
});

const json = async (res: Response) => (await res.json()) as Record<string, any>;
const getJob = async (id: string) => json(await h.fetch(`/api/v1/jobs/${id}`));

/** ffmpeg processes the worker started (they would die with its container; here they are orphaned). */
async function ffmpegOf(pid: number): Promise<number[]> {
  const { stdout } = await promisify(execFile)('pgrep', ['-P', String(pid), '-x', 'ffmpeg']).catch(() => ({ stdout: '' }));
  return stdout.split('\n').filter(Boolean).map(Number);
}

const objectsUnder = (prefix: string): Promise<string[]> => rawBucket(h.config.s3).keys(prefix);

test('a worker killed with SIGKILL mid-step leaves the job completed, with one result object and one usage record', async () => {
  const first = spawnWorker(h, { bundlePath });
  workers.push(first);
  await first.ready;
  const wav = await makeAudio(join(dir, 'long.wav'), [noise(900)], { rate: 22050 });
  const media = await json(await h.upload(await readFile(wav), 'long.wav', 'audio/wav'));
  const job = await json(await h.post('/api/v1/process', { media_id: media.id, action_id: 'aud_format_convert', parameters: { format: 'mp3' } }));
  expect(job.status).toBe('queued');

  // Mid-step: ffmpeg is converting.
  const ffmpeg = await waitFor(async () => {
    const pids = await ffmpegOf(first.child.pid!);
    return pids.length ? pids : undefined;
  }, 60_000, 100);
  expect((await getJob(job.id)).status).toBe('processing');
  await first.kill('SIGKILL');
  for (const pid of ffmpeg) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone with its worker
    }
  }

  const second = spawnWorker(h, { bundlePath });
  workers.push(second);
  await second.ready;
  // The step's heartbeat timeout (30 s for audio actions) passes, then its next attempt runs here.
  const done = await waitFor(async () => {
    const j = await getJob(job.id);
    return ['completed', 'failed', 'cancelled'].includes(j.status) ? j : undefined;
  }, 180_000, 500);
  expect(done).toMatchObject({ status: 'completed', result: { type: 'file', mime_type: 'audio/mpeg' } });
  expect(done.steps).toEqual([expect.objectContaining({ status: 'completed', attempts: 2 })]);

  const objects = await objectsUnder(`orgs/${h.tenant.organizationId}/jobs/${job.id}/`);
  expect(objects).toEqual([`orgs/${h.tenant.organizationId}/jobs/${job.id}/result.mp3`]);
  const usage = await h.common.orm.em.fork().execute<{ step_index: number }[]>(`select step_index from usage_records where job_id = ?`, [job.id]);
  expect(usage).toEqual([{ step_index: 0 }]);
  const result = await h.fetch(`/api/v1/jobs/${job.id}/result`);
  expect(result.status).toBe(200);
  expect(result.headers.get('content-type')).toBe('audio/mpeg');
  expect((await result.arrayBuffer()).byteLength).toBeGreaterThan(1000);
}, 300_000);
