// The job submission outbox (api/services/job-dispatcher.ts): POST /process answers once the job
// and its outbox row are recorded; the workflow is started right after. While Temporal cannot be
// reached the job stays queued (GET shows it, the reconciler leaves it alone, a cancel ends it),
// and it is started once Temporal is back.
import type { Client } from '@temporalio/client';
import { createJobDispatcher } from '#api/services/job-dispatcher.js';
import { createJobService } from '#api/services/job-service.js';
import type { ApiDeps } from '#api/deps.js';
import { createJobStore } from '#domain/job-store.js';
import { createLogger } from '#lib/logger.js';
import { createMetrics } from '#lib/metrics.js';
import { systemClock } from '#activities/deps.js';
import { createJobReconciler } from '#worker/reconcile.js';
import { trace } from '@opentelemetry/api';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';

let h: Harness;
let mediaId: string;
beforeAll(async () => {
  // Short infrastructure backoff, so the retries of a start happen within the test.
  h = await startHarness({ env: { INFRA_RETRY_INITIAL_MS: '100', INFRA_RETRY_MAX_INTERVAL_MS: '200' } });
  const up = await h.upload(await makeJpeg(32, 24), 'd.jpg', 'image/jpeg');
  expect(up.status).toBe(201);
  mediaId = ((await up.json()) as { id: string }).id;
});
afterAll(async () => {
  await h?.stop();
});

const json = async (res: Response) => (await res.json()) as Record<string, any>;
const dispatchRow = async (jobId: string) =>
  (await h.common.orm.em.fork().execute<{ attempts: number }[]>(`select "attempts" from "job_dispatches" where "job_id" = ?`, [jobId]))[0];
const workflowExists = (workflowId: string) =>
  h.temporal.workflow
    .getHandle(workflowId)
    .describe()
    .then(
      () => true,
      () => false,
    );

/** A Temporal client whose workflow starts fail as an outage does while `down` is true. */
function flakyTemporal(real: Client, state: { down: boolean; calls: number }): Client {
  const workflow = new Proxy(real.workflow, {
    get(target, prop, receiver) {
      if (prop !== 'start') return Reflect.get(target, prop, receiver);
      return async (...args: Parameters<Client['workflow']['start']>) => {
        state.calls += 1;
        if (state.down) throw Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14 });
        return target.start(...args);
      };
    },
  });
  return new Proxy(real, { get: (target, prop, receiver) => (prop === 'workflow' ? workflow : Reflect.get(target, prop, receiver)) });
}

function serviceWith(temporal: Client) {
  const deps: ApiDeps = {
    config: h.config,
    logger: createLogger('silent', 'test'),
    ...h.common,
    temporal,
    clock: systemClock,
    metrics: createMetrics('api'),
    tracer: trace.getTracer('test'),
  };
  const dispatcher = createJobDispatcher(deps);
  return { dispatcher, jobs: createJobService(deps, dispatcher) };
}

test('POST /process answers queued and the workflow is started right after; the outbox row goes', async () => {
  const res = await h.post('/api/v1/process', { media_id: mediaId, action_id: 'img_resize', parameters: { width: 8 } });
  expect(res.status).toBe(202);
  const job = await json(res);
  expect(job).toMatchObject({ status: 'queued', total_steps: 1 });
  expect(job.queued_at).toEqual(expect.any(String));
  await waitFor(async () => ((await workflowExists(job.workflow_id)) && !(await dispatchRow(job.id))) || undefined, 15_000);
  const events = await h.common.orm.em.fork().execute<{ data: { status: string } }[]>(`select "data" from "job_events" where "job_id" = ? and "type" = 'status'`, [job.id]);
  expect(events.map((e) => e.data.status)).toEqual(['queued']);
});

test('Temporal unreachable: the job stays queued, is not reconciled away, and starts once Temporal is back', async () => {
  const state = { down: true, calls: 0 };
  const { dispatcher, jobs } = serviceWith(flakyTemporal(h.temporal, state));
  try {
    const job = await jobs.submit(h.tenant.organizationId, { userId: h.tenant.userId, mediaId, actionId: 'img_resize', parameters: { width: 8 } });
    expect(job.status).toBe('queued');
    await waitFor(async () => (state.calls >= 1 && ((await dispatchRow(job.id))?.attempts ?? 0) >= 1) || undefined, 10_000);
    // GET shows it queued meanwhile.
    const seen = await json(await h.fetch(`/api/v1/jobs/${job.id}`));
    expect(seen.status).toBe('queued');
    // The worker's reconciler does not fail a job whose workflow is only waiting to be started.
    const reconciler = createJobReconciler({
      orm: h.common.orm,
      jobs: createJobStore({ orm: h.common.orm, clock: systemClock, retentionDays: 1 }),
      temporal: h.temporal,
      logger: createLogger('silent', 'test'),
      intervalMs: 0,
      graceMs: 0,
    });
    await reconciler.sweep();
    expect((await json(await h.fetch(`/api/v1/jobs/${job.id}`))).status).toBe('queued');
    // Failed attempts are retried by the sweep, for as long as the outage lasts.
    await new Promise((r) => setTimeout(r, 300));
    await dispatcher.sweep();
    await waitFor(async () => ((await dispatchRow(job.id))?.attempts ?? 0) >= 2 || undefined, 10_000);
    state.down = false;
    await waitFor(async () => {
      await dispatcher.sweep();
      return !(await dispatchRow(job.id)) || undefined;
    }, 15_000);
    expect(await workflowExists(job.workflowId!)).toBe(true);
    expect((await json(await h.fetch(`/api/v1/jobs/${job.id}`))).status).toBe('queued');
  } finally {
    await dispatcher.close();
  }
});

test('a job still waiting for its workflow can be cancelled; its workflow is never started', async () => {
  const state = { down: true, calls: 0 };
  const { dispatcher, jobs } = serviceWith(flakyTemporal(h.temporal, state));
  try {
    const job = await jobs.submit(h.tenant.organizationId, { userId: h.tenant.userId, mediaId, actionId: 'img_resize', parameters: { width: 8 } });
    await waitFor(async () => ((await dispatchRow(job.id))?.attempts ?? 0) >= 1 || undefined, 10_000);
    const res = await h.post(`/api/v1/jobs/${job.id}/cancel`, { reason: 'not needed' });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ status: 'cancelled', cancel_reason: 'not needed' });
    expect(await dispatchRow(job.id)).toBeUndefined();
    state.down = false;
    await dispatcher.sweep();
    expect(await workflowExists(job.workflowId!)).toBe(false);
  } finally {
    await dispatcher.close();
  }
});
