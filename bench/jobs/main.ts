// `npm run bench:jobs`: what a job costs on each contender, measured side by side in one run.
// Starts the services the tests use (Temporal dev server, MinIO, a fresh database) on private ports,
// the API in this process and a real worker process, and a BullMQ baseline worker process on the
// Redis at 127.0.0.1:6379 (or one it starts, or none: then the baseline is skipped, and said so).
// Mediaflow's jobs are submitted through POST /process and seen finishing through Postgres
// LISTEN/NOTIFY on its job_events (a trigger in the benchmark's own database): nothing polls the API.
// BENCH_SCALE (default 1) scales the sample counts; BENCH_WORKER_PROF=<dir> runs the worker under
// `node --cpu-prof`, its profile written there at exit.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import globalSetup from '../../tests/support/global-setup.js';
import globalTeardown from '../../tests/support/global-teardown.js';
import { startHarness } from '../../tests/support/harness.js';
import { makeJpeg } from '../../tests/support/media.js';
import { spawnWorker, writeWorkflowBundle } from '../../tests/support/worker-process.js';
import { startBaseline } from './bullmq.js';
import { startMediaflowClient } from './mediaflow.js';
import { formatCeiling, formatTable, formatTargets, round, saturate, sequential, type Contender } from './stats.js';
import { cpuPerJob } from './cpu.js';
import { bareRunner } from './workload.js';

const scale = Number(process.env.BENCH_SCALE ?? 1);
const N = { image: Math.ceil(30 * scale), pipeline: Math.ceil(15 * scale), audio: Math.ceil(6 * scale), saturation: Math.ceil(60 * scale) };
// Four organizations, each kept under the default per-organization limit of 10 jobs at once: each
// has its own lanes, so one organization's jobs never pile up when another's finish first.
const ORGS = 4;
const IN_FLIGHT_PER_ORG = 6;

process.env.TEST_DATABASE_URL ??= 'postgresql://postgres@127.0.0.1:5432/mediaflow_bench_jobs';
process.env.LOG_LEVEL ??= 'error';
const root = path.resolve(import.meta.dirname, '../..');
await globalSetup(undefined, { rootDir: root });
const dir = await mkdtemp(path.join(tmpdir(), 'mf-bench-jobs-'));
const h = await startHarness({ env: { ORG_CONCURRENT_JOBS: '10' } });
const profileDir = process.env.BENCH_WORKER_PROF ? path.resolve(process.env.BENCH_WORKER_PROF) : undefined;
const worker = spawnWorker(h, {
  bundlePath: await writeWorkflowBundle(path.join(dir, 'workflow-bundle.js')),
  ...(profileDir ? { env: { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } } : {}),
});
const cleanups: (() => Promise<unknown>)[] = [];
const log = (line: string) => console.error(`[bench:jobs] ${line}`);
try {
  const jpeg = path.join(dir, 'photo.jpg');
  await writeFile(jpeg, await makeJpeg(1280, 720));
  const wav = path.join(dir, 'speech.wav');
  await promisify(execFile)('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=30', '-ac', '2', '-ar', '44100', wav]);
  const inputs = { jpeg, wav };
  await worker.ready;

  const rows: Contender[] = [];
  // Where each saturation run's CPU went, by process.
  const cpuLines: string[] = [];

  // 1. The bare action(s), in this process, on local files.
  log('bare actions');
  const bare = bareRunner(h.common.actions, h.config, dir);
  const bareRow: Contender = { name: 'bare action in process' };
  bareRow.image = await sequential(N.image, 3, () => bare('image', jpeg));
  bareRow.pipeline = await sequential(N.pipeline, 2, () => bare('pipeline', jpeg));
  bareRow.audio = await sequential(N.audio, 1, () => bare('audio', wav));
  const bareSat = await cpuPerJob(N.saturation, () => saturate(N.saturation, 2, () => bare('image', jpeg)));
  bareRow.saturation = bareSat.result;
  cpuLines.push(`${bareRow.name}, saturation:`, ...bareSat.lines.map((l) => `  ${l}`));
  bareRow.note = 'saturation: 2 image runs at once (the machine has 2 cores)';
  rows.push(bareRow);

  // 2. The BullMQ baseline.
  log('BullMQ baseline');
  let baselineBusy: number | undefined;
  const baseline = await startBaseline(h, inputs, dir);
  if (baseline.skipped) {
    rows.push({ name: 'BullMQ baseline', note: `skipped: ${baseline.skipped}` });
  } else {
    cleanups.push(baseline.stop);
    const row: Contender = { name: `BullMQ on Redis (concurrency ${baseline.concurrency})` };
    row.image = await sequential(N.image, 3, () => baseline.run('image'));
    row.pipeline = await sequential(N.pipeline, 2, () => baseline.run('pipeline'));
    row.audio = await sequential(N.audio, 1, () => baseline.run('audio'));
    const sat = await cpuPerJob(N.saturation, () => saturate(N.saturation, ORGS * IN_FLIGHT_PER_ORG, () => baseline.run('image')));
    row.saturation = sat.result;
    baselineBusy = sat.busy;
    cpuLines.push(`${row.name}, saturation:`, ...sat.lines.map((l) => `  ${l}`));
    rows.push(row);
  }

  // 3. Mediaflow, end to end.
  log('Mediaflow');
  const mf = await startMediaflowClient(h, inputs, ORGS);
  cleanups.push(mf.stop);
  const row: Contender = { name: `Mediaflow end to end (${h.config.worker.maxConcurrentActivities} activities per worker)` };
  row.image = await sequential(N.image, 3, () => mf.run('image'));
  row.pipeline = await sequential(N.pipeline, 2, () => mf.run('pipeline'));
  row.audio = await sequential(N.audio, 1, () => mf.run('audio'));
  const sat = await cpuPerJob(N.saturation, () => saturate(N.saturation, ORGS * IN_FLIGHT_PER_ORG, (_, lane) => mf.run('image', lane % ORGS)));
  row.saturation = sat.result;
  cpuLines.push(`${row.name}, saturation:`, ...sat.lines.map((l) => `  ${l}`));
  const ceiling = formatCeiling(cpus().length, { saturation: bareRow.saturation, busy: bareSat.busy }, { saturation: sat.result, busy: sat.busy, byRole: sat.byRole }, baselineBusy);
  const cancel = await mf.cancelLatency(path.join(dir, 'long.wav'));
  row.note = `POST /jobs/{id}/cancel of a running ffmpeg step answered "${cancel.status}" in ${round(cancel.ms)} ms (target 1000 ms); saturation over ${ORGS} organizations, ${IN_FLIGHT_PER_ORG} jobs in flight each`;
  rows.push(row);

  console.log(`\nJob latency (submit -> completed) and saturation throughput, ${new Date().toISOString()}, ${cpus().length} cores\n`);
  console.log(formatTable(rows));
  console.log(`\nCPU by process during saturation (the whole machine's ${cpus().length} cores are shared):\n${cpuLines.join('\n')}`);
  console.log(`\n${ceiling}`);
  console.log(`\n${formatTargets(rows)}\n- cancel answered within 1000 ms: ${round(cancel.ms)} ${cancel.ms <= 1000 ? '(met)' : '(NOT met)'}`);
} finally {
  for (const c of cleanups.reverse()) await c().catch((err: unknown) => log(`cleanup: ${String(err)}`));
  await worker.kill('SIGTERM');
  await h.stop();
  await rm(dir, { recursive: true, force: true });
  await globalTeardown();
}
