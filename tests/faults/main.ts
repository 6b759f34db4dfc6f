// `npm run test:faults`: the standing fault suite (README, "Tests"). On a private stack (stack.ts) it
// runs a mixed workload (image and audio jobs, pipelines, tus and multipart uploads, webhooks to a
// local receiver) while it injects, one after another: kill -9 of a worker mid-step (three times),
// kill -9 of MinIO, an immediate stop of Postgres, kill -9 of Temporal and SIGTERM of a worker
// mid-step; then 500 jobs at once across five organizations. It then checks that nothing was lost
// or duplicated (checks.ts), prints the figures and exits 1 on any loss.
import { setTimeout as sleep } from 'node:timers/promises';
import { startReceiver } from '../support/webhook-receiver.js';
import { audit, waitForWebhooks, type Audit } from './checks.js';
import { startStack, type Proc, type Stack } from './stack.js';
import { Workload } from './workload.js';

const t0 = Date.now();
const log = (line: string) => console.log(`[faults +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);
const keep = !!process.env.KEEP_TEST_DATA && process.env.KEEP_TEST_DATA !== '0';
const LOAD_JOBS = Number(process.env.FAULTS_LOAD_JOBS || 500);

interface Fault {
  name: string;
  /** From the fault to GET /health answering 200 again. */
  recoveredMs: number;
}

async function main(): Promise<number> {
  const receiver = await startReceiver();
  const stack = await startStack({
    workers: 2,
    log,
    // The mechanism under test is the same with a shorter ceiling; the suite must stay within minutes.
    env: { INFRA_RETRY_INITIAL_MS: '500', INFRA_RETRY_MAX_INTERVAL_MS: '4000', INFRA_RETRY_FOR: '5m', JOB_RECONCILE_INTERVAL: '10s', JOB_RECONCILE_GRACE: '60s' },
  });
  log('stack healthy');
  let result: Audit | undefined;
  let passed = false;
  const faults: Fault[] = [];
  const work = new Workload(stack.apiUrl, receiver, log);
  try {
    await work.setUp(5);
    const stopMixed = work.runMixed(3);

    const injected = async (name: string, inject: () => Promise<void>) => {
      const at = Date.now();
      log(`fault: ${name}`);
      await inject();
      await stack.waitHealthy(120_000);
      const recoveredMs = Date.now() - at;
      faults.push({ name, recoveredMs });
      log(`recovered from ${name}: health 200 after ${(recoveredMs / 1000).toFixed(1)} s`);
      await sleep(3_000);
    };
    const midStep = () => waitForRunningStep(stack);
    const killWorker = (w: Proc) => async () => {
      await midStep();
      await w.stop('SIGKILL');
      await sleep(1_500);
      w.start();
    };

    await sleep(6_000);
    await injected('kill -9 worker-1 mid-step', killWorker(stack.workers[0]!));
    await injected('kill -9 worker-2 mid-step', killWorker(stack.workers[1]!));
    await injected('kill -9 worker-1 mid-step (again)', killWorker(stack.workers[0]!));
    await injected('kill -9 MinIO (6 s)', async () => {
      await stack.minio.stop('SIGKILL');
      await sleep(6_000);
      stack.minio.start();
    });
    await injected('pg_ctl stop -m immediate (6 s)', async () => {
      stack.stopPostgresImmediately();
      await stack.postgres.exited;
      await sleep(6_000);
      stack.postgres.start();
    });
    await injected('kill -9 Temporal (6 s)', async () => {
      await stack.temporal.stop('SIGKILL');
      await sleep(6_000);
      stack.temporal.start();
    });
    await injected('SIGTERM worker-2 mid-step (graceful drain)', async () => {
      await midStep();
      await stack.workers[1]!.stop('SIGTERM', 60_000);
      stack.workers[1]!.start();
    });
    await stopMixed();
    log(`mixed workload: ${work.jobs.length} jobs accepted, ${work.uploads.length} uploads succeeded, ${work.refused} submissions refused during outages`);

    log(`load: ${LOAD_JOBS} jobs at once across ${work.tenants.length} organizations`);
    const load = await work.runLoad(LOAD_JOBS);
    log(`load: ${load.accepted} accepted; GET /jobs/{id} p50 ${load.p50} ms, p95 ${load.p95} ms, max ${load.max} ms over ${load.samples} reads`);

    log('waiting for every accepted job to end');
    const settled = await work.waitAllTerminal(240_000);
    log(`${settled.terminal} of ${work.jobs.length} accepted jobs terminal`);
    const undelivered = await waitForWebhooks(work, receiver, 180_000);
    log(`terminal webhooks: ${undelivered} still undelivered`);
    result = await audit(stack, work, receiver);
    const lost = result.lost.length + result.notTerminal.length + result.wronglyFailed.length + result.missingWebhooks.length + result.unreadableUploads.length + result.missingUsage.length + result.missingResults.length;
    const duplicated = result.duplicateUsage.length + result.orphans.length;
    const figures = {
      jobs_accepted: work.jobs.length,
      jobs_completed: result.completed,
      jobs_failed_as_expected: result.expectedFailures,
      faults: faults.length,
      lost,
      duplicated,
      uploads_checked: work.uploads.length,
      webhook_events_checked: result.webhookEventsChecked,
      usage_records_checked: result.usageChecked,
      result_objects_checked: result.objectsChecked,
      load_p95_get_job_ms: load.p95,
      recovery_ms: Object.fromEntries(faults.map((f) => [f.name, f.recoveredMs])),
      duration_s: Math.round((Date.now() - t0) / 1000),
    };
    console.log(`\nFAULT SUITE FIGURES ${JSON.stringify(figures, null, 2)}\n`);
    for (const [what, list] of Object.entries(result)) {
      if (Array.isArray(list) && list.length) console.log(`  ${what}: ${list.length} (first: ${JSON.stringify(list.slice(0, 3))})`);
    }
    if (lost || duplicated) {
      console.log(`FAILED: ${lost} lost, ${duplicated} duplicated (logs kept in ${stack.dir})`);
      return 1;
    }
    console.log('PASSED: nothing lost, nothing duplicated');
    passed = true;
    return 0;
  } finally {
    await receiver.close();
    // A failed run keeps its logs and state for a look.
    await stack.teardown(keep || !passed);
  }
}

/** Resolves once some job step is running (so a fault lands mid-step), or after 20 s anyway. */
async function waitForRunningStep(stack: Stack): Promise<void> {
  const pgModule = 'pg';
  const pg = (await import(pgModule)) as { default: { Client: new (o: { connectionString: string }) => { connect(): Promise<void>; query(q: string): Promise<{ rows: { n: string }[] }>; end(): Promise<void> } } };
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const c = new pg.default.Client({ connectionString: stack.databaseUrl });
    try {
      await c.connect();
      const { rows } = await c.query(`select count(*) as n from job_steps where status = 'processing'`);
      if (Number(rows[0]!.n) > 0) return;
    } catch {
      /* the database may be on its way back */
    } finally {
      await c.end().catch(() => undefined);
    }
    await sleep(200);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('[faults] the suite could not run:', err);
    process.exit(2);
  },
);
