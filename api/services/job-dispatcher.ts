import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { infraBackoffMs, isInfraError, describeInfraError } from '#lib/infra-errors.js';
import type { ApiDeps } from '../deps.js';
import { createJobStore } from '#domain/job-store.js';
import { workflowStartOptions, type JobWorkflowStart } from './pipeline.js';
import { providerKeyStoreOf } from './provider-keys.js';

/** Workflow starts one instance has in flight at once. */
const CONCURRENCY = 16;
/** A row handed to this instance's queue is left to it for this long before any sweep takes it. */
export const DISPATCH_LEASE_MS = 30_000;
/** How often each instance looks for rows nobody is starting (failed attempts, a crashed instance's). */
const SWEEP_EVERY_MS = 1000;
const SWEEP_BATCH = 100;
/** Past this many waiting starts, new ones wait in the table for a sweep instead of in memory. */
const MAX_QUEUED = 10_000;
/** Errors that are not the infrastructure's fail the job after this many attempts; infrastructure errors only delay it. */
const MAX_OTHER_FAILURES = 5;

interface Pending {
  jobId: string;
  workflowId: string;
  start: JobWorkflowStart;
}

/** What the outbox row keeps: the start without provider keys (they are never stored; a sweep reads the stored ones again). */
export const storedStart = (start: JobWorkflowStart): JobWorkflowStart => {
  const { providerKeys: _keys, ...input } = start.input;
  return { ...start, input };
};

/**
 * The job submission outbox (table `job_dispatches`, Migration20261202040000). A submission
 * records the job queued and its row in one transaction and is answered at once; this starts the
 * workflow afterwards, `CONCURRENCY` at a time, and deletes the row once Temporal has it. A start
 * that fails is retried with backoff (infrastructure errors, such as Temporal being down, for as
 * long as they last; other errors `MAX_OTHER_FAILURES` times, then the job fails), so every job
 * reaches its workflow, hence a terminal state, and an outage only delays it. Rows this instance
 * does not hold (its own failed attempts, those of an instance that stopped or crashed) are
 * claimed by a sweep every second (`for update skip locked`), so any replica finishes them; a start
 * made twice is harmless (the workflow id is the job's, REJECT_DUPLICATE).
 */
export function createJobDispatcher(deps: ApiDeps) {
  const { orm, temporal, config, logger } = deps;
  const store = createJobStore({ orm, clock: deps.clock, actions: deps.actions, retentionDays: config.media.retentionDays });
  const storedKeys = providerKeyStoreOf(deps);
  const queue: Pending[] = [];
  /** Jobs queued or being started here (a sweep does not queue them twice). */
  const held = new Set<string>();
  const inFlight = new Set<Promise<void>>();
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<unknown> | undefined;

  const sql = <T extends object[] = object[]>(text: string, values: unknown[]) => orm.em.getConnection().execute<T>(text, values);

  // Rows of started workflows, deleted together: the starts in flight finish close to each other,
  // and one statement per start was a fifth of a submission's database work. A batch is sent once
  // the one before it is done; ids that come meanwhile wait for the next.
  let batch: { ids: string[]; done: Promise<void> } | undefined;
  let lastBatch: Promise<unknown> = Promise.resolve();
  function forgetStarted(jobId: string): Promise<void> {
    if (!batch) {
      const ids: string[] = [];
      const done = lastBatch.then(async () => {
        batch = undefined;
        const pool = await orm.em.getConnection().getNativeClient();
        await pool.query(`delete from "job_dispatches" where "job_id" = any($1::uuid[])`, [ids]);
      });
      batch = { ids, done };
      lastBatch = done.catch(() => undefined);
    }
    batch.ids.push(jobId);
    return batch.done;
  }

  async function attempt(p: Pending): Promise<void> {
    try {
      await temporal.workflow.start('processJob', { ...workflowStartOptions(config, p.workflowId, p.start), workflowIdReusePolicy: 'REJECT_DUPLICATE' });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) return failed(p, err);
    }
    await forgetStarted(p.jobId);
  }

  async function failed(p: Pending, err: unknown): Promise<void> {
    const infra = isInfraError(err);
    const [row] = await sql<{ attempts: number }[]>(
      `update "job_dispatches" set "attempts" = "attempts" + 1, "last_error" = ? where "job_id" = ? returning "attempts"`,
      [describeInfraError(err), p.jobId],
    );
    if (!row) return; // cancelled meanwhile
    if (!infra && row.attempts >= MAX_OTHER_FAILURES) {
      logger.error({ err, jobId: p.jobId }, 'could not start the job workflow; the job fails');
      await store.failSubmission(p.jobId, { code: 'SERVICE_UNAVAILABLE', message: 'the job could not be queued' });
      await sql(`delete from "job_dispatches" where "job_id" = ?`, [p.jobId]);
      return;
    }
    const delay = infraBackoffMs(config.infraRetry, row.attempts - 1);
    logger.warn({ err: describeInfraError(err), jobId: p.jobId, attempts: row.attempts, retryInMs: delay }, 'could not start the job workflow yet; retrying');
    await sql(`update "job_dispatches" set "next_attempt_at" = now() + ? * interval '1 millisecond' where "job_id" = ?`, [delay, p.jobId]);
  }

  function pump(): void {
    while (!closed && inFlight.size < CONCURRENCY && queue.length) {
      const p = queue.shift()!;
      const run: Promise<void> = attempt(p)
        .catch((err: unknown) => logger.warn({ err, jobId: p.jobId }, 'job dispatch bookkeeping failed; a sweep retries it'))
        .finally(() => {
          held.delete(p.jobId);
          inFlight.delete(run);
          pump();
        });
      inFlight.add(run);
    }
  }

  function enqueue(p: Pending): boolean {
    if (closed || held.has(p.jobId) || queue.length >= MAX_QUEUED) return false;
    held.add(p.jobId);
    queue.push(p);
    pump();
    return true;
  }

  /** Claims the due rows nobody is starting and queues them (their stored provider keys read again). */
  async function sweep(): Promise<number> {
    const room = Math.min(SWEEP_BATCH, MAX_QUEUED - queue.length);
    if (closed || room <= 0) return 0;
    const rows = await sql<{ job_id: string; start: JobWorkflowStart; workflow_id: string | null }[]>(
      `with due as (
         select "job_id" from "job_dispatches" where "next_attempt_at" <= now()
         order by "next_attempt_at" limit ? for update skip locked)
       update "job_dispatches" d set "next_attempt_at" = now() + ? * interval '1 millisecond'
       from due where d."job_id" = due."job_id"
       returning d."job_id", d."start", (select "workflow_id" from "processing_jobs" where "id" = d."job_id") as "workflow_id"`,
      [room, DISPATCH_LEASE_MS],
    );
    let queued = 0;
    for (const row of rows) {
      if (held.has(row.job_id)) continue;
      let providerKeys: Awaited<ReturnType<typeof storedKeys.forJob>>;
      try {
        providerKeys = await storedKeys.forJob(row.start.input.organizationId);
      } catch (err) {
        logger.warn({ err, jobId: row.job_id }, 'could not read the stored provider keys of a job to start; retrying later');
        continue;
      }
      const input = { ...row.start.input, ...(Object.keys(providerKeys).length ? { providerKeys } : {}) };
      if (enqueue({ jobId: row.job_id, workflowId: row.workflow_id ?? `job-${row.job_id}`, start: { ...row.start, input } })) queued++;
    }
    return queued;
  }

  return {
    /** Starts the workflow of a job just recorded with its outbox row (soon, not before answering). */
    dispatch(jobId: string, workflowId: string, start: JobWorkflowStart): void {
      enqueue({ jobId, workflowId, start });
    },

    /**
     * A job whose workflow has not been started: its outbox row is removed and the job cancelled
     * in the store. False when it has no row (its workflow exists, or the job is gone).
     */
    async cancelUndispatched(jobId: string, request: { by: string; reason?: string }): Promise<boolean> {
      const rows = await sql<{ job_id: string }[]>(`delete from "job_dispatches" where "job_id" = ? returning "job_id"`, [jobId]);
      if (!rows.length) return false;
      await store.cancelJob({ jobId, by: request.by, reason: request.reason });
      return true;
    },

    sweep,

    start(): void {
      if (timer) return;
      timer = setInterval(() => {
        if (sweeping) return;
        sweeping = sweep()
          .catch((err: unknown) => logger.warn({ err }, 'job dispatch sweep failed'))
          .finally(() => (sweeping = undefined));
      }, SWEEP_EVERY_MS);
      timer.unref();
    },

    /** Stops: starts in flight finish (up to `waitMs`); what is still queued is left due at once for any other instance. */
    async close(waitMs = 5000): Promise<void> {
      closed = true;
      clearInterval(timer);
      timer = undefined;
      await sweeping;
      const left = queue.splice(0).map((p) => p.jobId);
      await Promise.race([Promise.all(inFlight), new Promise((resolve) => setTimeout(resolve, waitMs).unref())]);
      if (left.length) {
        await sql(`update "job_dispatches" set "next_attempt_at" = now() where "job_id" in (${left.map(() => '?').join(', ')})`, left).catch((err: unknown) =>
          logger.warn({ err, jobs: left.length }, 'could not hand queued job starts back; they are started once their lease ends'),
        );
      }
    },
  };
}

export type JobDispatcher = ReturnType<typeof createJobDispatcher>;
