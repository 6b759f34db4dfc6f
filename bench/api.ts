// `npm run bench:api`: throughput and latency of the API's hot paths against a bare baseline
// measured in the same run. It starts the services the tests use (Temporal, MinIO, a fresh
// database), the API as its own process (`api/main.ts`, with jobs going to a task queue nobody
// polls, so POST /process measures the API and not the workers; the next case waits until the outbox
// has started their workflows), a bare node:http server doing the
// same primary-key query with no middleware, and autocannon in a third process for each case.
//
//   BENCH_DURATION=10   seconds measured per case (after BENCH_WARMUP=5 seconds of warm-up: the API's code is compiled by then)
//   BENCH_CONNECTIONS=50,200
//   BENCH_CASES=baseline,getJob,listMedia,jobEvents,submitJob   (a subset to run)
//   BENCH_REPEAT=1   runs every case this many times (baseline and API alternating): a shared machine moves figures
//                    between runs, so compare the rows side by side; the targets use the last of each
//   BENCH_CPU_PROF=<dir>   runs the API under `node --cpu-prof`, profile written there at exit
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import globalSetup from '../tests/support/global-setup.js';
import globalTeardown from '../tests/support/global-teardown.js';
import { makeJpeg } from '../tests/support/media.js';
import { client, registerTenant } from '../tests/support/tenants.js';
import { freePort } from '../scripts/services.js';
import type { LoadResult, LoadSpec } from './api-load.js';
import { cpuByRole, cpuUsed } from './proc-cpu.js';

const root = path.resolve(import.meta.dirname, '..');
const duration = Number(process.env.BENCH_DURATION ?? 10);
const warmup = Number(process.env.BENCH_WARMUP ?? 5);
const connectionCounts = (process.env.BENCH_CONNECTIONS ?? '50,200').split(',').map(Number);
const only = process.env.BENCH_CASES?.split(',');
const repeat = Math.max(1, Number(process.env.BENCH_REPEAT ?? 1));
const poolMax = Number(process.env.DATABASE_POOL_MAX ?? 10);

process.env.TEST_DATABASE_URL ??= 'postgresql://postgres@127.0.0.1:5432/mediaflow_bench_api';
process.env.LOG_LEVEL ??= 'info';
const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-bench-api-'));
const children: ChildProcess[] = [];

function start(name: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const log = fs.openSync(path.join(logDir, `${name}.log`), 'a');
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', name === 'baseline' ? 'pipe' : log, log] });
  children.push(child);
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await Promise.race([once(child, 'exit'), sleep(30_000).then(() => child.kill('SIGKILL'))]);
}

async function load(spec: LoadSpec): Promise<LoadResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/api-load.ts', JSON.stringify(spec)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  const [code] = (await once(child, 'exit')) as [number];
  if (code !== 0) throw new Error(`load generator exited with ${code}`);
  return JSON.parse(out) as LoadResult;
}

async function waitUntilUp(url: string, child: ChildProcess, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}; see ${logDir}`);
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await sleep(100);
  }
  throw new Error(`${what} did not start; see ${logDir}`);
}

await globalSetup(undefined, { rootDir: root });
try {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_CPU_PROF)}`] : [];
  const api = start('api', [...profile, '--import', 'tsx', 'api/main.ts'], {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: String(port),
    API_BASE_URL: url,
    DATABASE_POOL_MAX: String(poolMax),
    // Nobody polls this queue: submitted jobs stay queued and the API alone is measured.
    TEMPORAL_TASK_QUEUE: `bench-unpolled-${randomUUID()}`,
    // Limits far above the load, so every request is counted and none refused.
    RATE_LIMIT_AUTH_PER_MINUTE: '10000000',
    RATE_LIMIT_UPLOAD_PER_MINUTE: '10000000',
    RATE_LIMIT_JOBS_PER_MINUTE: '10000000',
    RATE_LIMIT_READ_PER_MINUTE: '10000000',
    RATE_LIMIT_WRITE_PER_MINUTE: '10000000',
    RATE_LIMIT_STATUS_PER_MINUTE: '10000000',
    RATE_LIMIT_DOWNLOAD_PER_MINUTE: '10000000',
    ORG_REQUESTS_PER_DAY: '1000000000',
    ORG_CONCURRENT_JOBS: '0',
    // Streams too: the 200-connection case holds 200 at once, and a run's new connections can
    // arrive before the server has seen all of the previous run's close.
    SSE_MAX_STREAMS_PER_ORG: '1000',
    SSE_MAX_STREAMS: '1000',
  });
  await waitUntilUp(`${url}/api/v1/health/ready`, api, 'the API');

  // Data: one organization with an API key, 60 images, one job for the reads.
  const tenant = await registerTenant(url, { name: 'Bench org' });
  const image = await makeJpeg(64, 48);
  const media: string[] = [];
  for (let i = 0; i < 60; i += 6) {
    const batch = await Promise.all(Array.from({ length: 6 }, (_, j) => tenant.upload(image, `bench-${i + j}.jpg`, 'image/jpeg')));
    for (const r of batch) media.push(((await r.json()) as { id: string }).id);
  }
  const submitBody = JSON.stringify({ media_id: media[0], action_id: 'img_resize', parameters: { width: 32 } });
  const submitted = await tenant.post('/api/v1/process', JSON.parse(submitBody));
  if (submitted.status !== 202) throw new Error(`job submission failed: ${submitted.status} ${await submitted.text()}`);
  const jobId = ((await submitted.json()) as { id: string }).id;
  // The job's event stream replays its events and ends once the job is terminal (no worker here).
  const pg = (await import('pg' as string)) as { default: { Client: new (u: string) => { connect(): Promise<void>; query(t: string, v: unknown[]): Promise<unknown>; end(): Promise<void> } } };
  const db = new pg.default.Client(process.env.DATABASE_URL!);
  await db.connect();
  await db.query(`update processing_jobs set status = 'cancelled', completed_at = now() where id = $1`, [jobId]);
  // Statements the database ran per request (each statement outside a transaction counts as one).
  const transactions = async () => {
    await sleep(1200); // the statistics are flushed at most once a second
    const { rows } = (await db.query(`select xact_commit + xact_rollback as n from pg_stat_database where datname = current_database()`, [])) as { rows: { n: string }[] };
    return Number(rows[0]!.n);
  };

  // The API answers a submission before Temporal has its workflow (the outbox starts it after):
  // the next case waits until the submissions' starts are drained, so it does not share the
  // machine with them. How long that took says how fast the outbox empties.
  const drainOutbox = async () => {
    const started = Date.now();
    const left = async () => Number(((await db.query(`select count(*) as n from job_dispatches`, [])) as { rows: { n: string }[] }).rows[0]!.n);
    const first = await left();
    let n = first;
    while (n > 0 && Date.now() - started < 300_000) {
      await sleep(500);
      n = await left();
    }
    const s = (Date.now() - started) / 1000;
    process.stderr.write(`[bench] outbox: ${first} workflow starts waiting after the run, ${n} left after ${s.toFixed(1)} s${first ? ` (${Math.round((first - n) / Math.max(s, 0.001))} starts/s)` : ''}\n`);
  };

  const baseline = start('baseline', ['--import', 'tsx', 'bench/api-baseline.ts', process.env.DATABASE_URL!, String(poolMax)]);
  const [line] = (await once(baseline.stdout!, 'data')) as [Buffer];
  const baseUrl = `http://127.0.0.1:${String(line).trim()}`;

  const key = { 'x-api-key': tenant.apiKey };
  const cases: { name: string; spec: Omit<LoadSpec, 'connections' | 'durationSeconds' | 'warmupSeconds'> }[] = [
    { name: 'baseline', spec: { url: `${baseUrl}/jobs/${jobId}` } },
    { name: 'getJob', spec: { url: `${url}/api/v1/jobs/${jobId}`, headers: key } },
    { name: 'listMedia', spec: { url: `${url}/api/v1/media?limit=50`, headers: key } },
    { name: 'jobEvents', spec: { url: `${url}/api/v1/jobs/${jobId}/events`, headers: { ...key, accept: 'text/event-stream' } } },
    { name: 'submitJob', spec: { url: `${url}/api/v1/process`, method: 'POST', headers: { ...key, 'content-type': 'application/json' }, body: submitBody } },
  ];
  const label: Record<string, string> = {
    baseline: 'bare node:http, GET /jobs/{id} (same query)',
    getJob: 'GET /jobs/{id}',
    listMedia: 'GET /media?limit=50',
    jobEvents: 'GET /jobs/{id}/events (SSE, replay and end)',
    submitJob: 'POST /process (queue nobody polls)',
  };
  // A key revoked in the middle of a load run: how long after the revocation's reply the API
  // first refuses it (the cache drops it on a notification; the promise is within a second).
  const revokedUnderLoad = async (): Promise<string> => {
    await sleep((warmup + duration / 2) * 1000);
    const created = await tenant.bearer.post('/api/v1/api-keys', { name: 'revoked under load', permissions: ['jobs:read'] });
    const key = (await created.json()) as { api_key: string; key_id: string };
    const other = client(url, { apiKey: key.api_key });
    const before = (await other.fetch(`/api/v1/jobs/${jobId}`)).status; // served, so cached
    const revoked = await tenant.bearer.fetch(`/api/v1/api-keys/${key.key_id}`, { method: 'DELETE' });
    const at = performance.now();
    let status = 200;
    while (status === 200 && performance.now() - at < 5000) {
      status = (await other.fetch(`/api/v1/jobs/${jobId}`)).status;
      if (status === 200) await sleep(10);
    }
    const ms = Math.round(performance.now() - at);
    return `key served (${before}), revoked (${revoked.status}), refused ${status === 200 ? 'NOT within 5 s' : `with ${status} ${ms} ms after the revocation's reply`} (target < 1000 ms)`;
  };
  let revocation: string | undefined;

  const rows: { name: string; connections: number; r: LoadResult; perRequest: number; cpuMs: number; cpuLine: string }[] = [];
  const runs = connectionCounts
    .flatMap((n) => Array<number>(repeat).fill(n))
    .flatMap((connections) => cases.filter((c) => !only || only.includes(c.name) || c.name === 'baseline').map((c) => ({ connections, c })));
  for (const [i, { connections, c }] of runs.entries()) {
    const server = c.name === 'baseline' ? 'bare baseline server' : 'Mediaflow API';
    const before = await transactions();
    const cpuBefore = cpuByRole('benchmark driver');
    const lastGet = c.name === 'getJob' && connections === Math.max(...connectionCounts) && !runs.slice(i + 1).some((x) => x.c.name === 'getJob');
    const [r, revokedLine] = await Promise.all([load({ ...c.spec, connections, durationSeconds: duration, warmupSeconds: warmup }), lastGet ? revokedUnderLoad() : undefined]);
    if (revokedLine) revocation = `${revokedLine}, during GET /jobs/{id} x${connections}`;
    const cpuAfter = cpuByRole('benchmark driver');
    const after = await transactions();
    // Warm-up requests are not in r.requests: approximations that err high.
    const served = Math.max(1, r.requests * (1 + warmup / duration));
    const perRequest = (after - before) / served;
    // Every process's CPU over the run (warm-up included), per request: who else used the cores.
    const used = cpuBefore && cpuAfter ? cpuUsed(cpuBefore, cpuAfter) : [];
    if (used.length && r.cpuMs !== undefined) used.splice(-1, 0, ['load generator', r.cpuMs]);
    const cpuMs = (used.find(([role]) => role === server)?.[1] ?? NaN) / served;
    const cpuLine = used.length
      ? used.filter(([role, ms]) => role === 'idle' || ms / served >= 0.001).map(([role, ms]) => (role === 'idle' ? `idle ${((ms / ((duration + warmup) * 1000)) * 100).toFixed(0)}% of a core` : `${role} ${(ms / served).toFixed(3)}`)).join(', ')
      : 'not measured (no /proc)';
    rows.push({ name: c.name, connections, r, perRequest, cpuMs, cpuLine });
    process.stderr.write(`[bench] ${label[c.name]} x${connections}: ${r.requestsPerSecond} req/s, p95 ${r.p95} ms, server CPU ${cpuMs.toFixed(3)} ms/request, statuses ${JSON.stringify(r.statuses)}\n`);
    if (c.name === 'submitJob' && i < runs.length - 1) await drainOutbox();
  }

  // Each row against the baseline measured just before it, at the same connection count.
  const base = (row: (typeof rows)[number]) => rows.slice(0, rows.indexOf(row)).findLast((x) => x.name === 'baseline' && x.connections === row.connections)!.r;
  console.log(`\nAPI hot paths, ${duration} s per case after ${warmup} s warm-up; API and baseline each with a pool of ${poolMax} connections\n`);
  console.log('| case | connections | req/s | p50 (ms) | p95 (ms) | p99 (ms) | non-2xx | db transactions / request | server CPU ms / request | req/s vs baseline |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) {
    const { name, connections, r, perRequest, cpuMs } = row;
    const ratio = r.requestsPerSecond / Math.max(1, (name === 'baseline' ? r : base(row)).requestsPerSecond);
    console.log(`| ${label[name]} | ${connections} | ${r.requestsPerSecond} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.failures} | ${perRequest.toFixed(1)} | ${cpuMs.toFixed(3)} | ${ratio.toFixed(2)}x |`);
  }
  console.log('\nCPU ms per request by process over each case (warm-up included):');
  for (const row of rows) console.log(`  ${label[row.name]} x${row.connections}: ${row.cpuLine}`);
  const get200 = rows.findLast((x) => x.name === 'getJob' && x.connections === 200);
  const submit50 = rows.findLast((x) => x.name === 'submitJob' && x.connections === 50);
  console.log('\nTargets:');
  if (get200) {
    const ratio = get200.r.requestsPerSecond / Math.max(1, base(get200).requestsPerSecond);
    console.log(`  GET /jobs/{id} x200: p95 ${get200.r.p95} ms (target < 100) ${get200.r.p95 < 100 ? 'met' : 'MISSED'}; ${ratio.toFixed(2)}x baseline (target >= 0.5) ${ratio >= 0.5 ? 'met' : 'MISSED'}`);
  }
  if (revocation) console.log(`  revoked key under load: ${revocation}`);
  if (submit50) console.log(`  POST /process x50: p95 ${submit50.r.p95} ms (target < 150) ${submit50.r.p95 < 150 ? 'met' : 'MISSED'}`);
  await db.end();
} finally {
  for (const c of children.reverse()) await stop(c);
  await globalTeardown();
  if (!process.env.KEEP_TEST_DATA) fs.rmSync(logDir, { recursive: true, force: true });
  else console.log(`logs kept in ${logDir}`);
}
