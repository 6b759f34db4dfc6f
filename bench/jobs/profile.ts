// `node --import tsx bench/jobs/profile.ts`: where one single-step image job's (or PROFILE_CASE's) time goes, from the
// Temporal history's event times and the job's own events (medians over sequential jobs). Started
// like bench:jobs (test services, the API here, a worker process).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import globalSetup from '../../tests/support/global-setup.js';
import globalTeardown from '../../tests/support/global-teardown.js';
import { startHarness } from '../../tests/support/harness.js';
import { makeJpeg } from '../../tests/support/media.js';
import { spawnWorker, writeWorkflowBundle } from '../../tests/support/worker-process.js';
import { percentiles } from './stats.js';
import { CASES, type CaseName } from './workload.js';

process.env.TEST_DATABASE_URL ??= 'postgresql://postgres@127.0.0.1:5432/mediaflow_bench_jobs';
process.env.LOG_LEVEL ??= 'error';
await globalSetup(undefined, { rootDir: path.resolve(import.meta.dirname, '../..') });
const dir = await mkdtemp(path.join(tmpdir(), 'mf-profile-'));
const h = await startHarness();
const worker = spawnWorker(h, { bundlePath: await writeWorkflowBundle(path.join(dir, 'bundle.js')) });
try {
  await worker.ready;
  const media = (await (await h.upload(await makeJpeg(1280, 720), 'photo.jpg', 'image/jpeg')).json()) as { id: string };
  // PROFILE_CASE=pipeline profiles bench:jobs's three-step pipeline instead.
  const { steps } = CASES[(process.env.PROFILE_CASE ?? 'image') as Exclude<CaseName, 'audio'>];
  const body =
    steps.length === 1
      ? { media_id: media.id, action_id: steps[0]!.actionId, parameters: steps[0]!.parameters }
      : { media_id: media.id, steps: steps.map((s) => ({ action_id: s.actionId, parameters: s.parameters })) };
  const segments: Record<string, number[]> = {};
  const add = (k: string, v: number) => (segments[k] ??= []).push(v);
  for (let i = 0; i < Number(process.env.PROFILE_JOBS ?? 20); i++) {
    const t0 = Date.now();
    const res = await h.post('/api/v1/process', body);
    const t1 = Date.now();
    const job = (await res.json()) as { id: string };
    const handle = h.temporal.workflow.getHandle(`job-${job.id}`);
    // The submission outbox starts the workflow right after the reply: wait until it exists.
    for (const deadline = Date.now() + 30_000; ; ) {
      try {
        await handle.result();
        break;
      } catch (err) {
        if ((err as Error).name !== 'WorkflowNotFoundError' || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    const events = (await handle.fetchHistory()).events ?? [];
    const at = (e: (typeof events)[number]) => Number(e.eventTime!.seconds) * 1000 + Math.round((e.eventTime!.nanos ?? 0) / 1e6);
    const start = at(events[0]!);
    add('POST /process (reply)', t1 - t0);
    add('submit -> workflow started', start - t0);
    let last = start;
    for (const e of events.slice(1)) {
      const name = Object.keys(e).find((k) => k.endsWith('EventAttributes'))!.replace('EventAttributes', '');
      const label = e.activityTaskScheduledEventAttributes ? `${name}(${e.activityTaskScheduledEventAttributes.activityType!.name})` : name;
      add(`${String(e.eventId).padStart(2)} ${label}`, at(e) - last);
      last = at(e);
    }
    add('workflow started -> closed', last - start);
  }
  // The worker's own timings of each step (its log lines).
  for (const line of worker.output().split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as Record<string, unknown>;
    for (const k of ['startMs', 'executeMs', 'recordMs', 'downloadMs', 'actionMs', 'uploadMs']) if (typeof entry[k] === 'number') add(`worker: ${k}`, entry[k] as number);
  }
  console.log('| segment | p50 ms | p95 ms |\n|---|---:|---:|');
  for (const [k, v] of Object.entries(segments)) {
    const p = percentiles(v);
    console.log(`| ${k} | ${p.p50} | ${p.p95} |`);
  }
} finally {
  await worker.kill();
  await h.stop();
  await rm(dir, { recursive: true, force: true });
  await globalTeardown();
}
