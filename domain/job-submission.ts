import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { JobStepSchema, ProcessingJobSchema, type ProcessingJob } from '#entities/index.js';
import { CREATED_JOB_SETTING } from '#entities/job-event-notify.js';
import type { Clock } from './clock.js';
import { jobColumns, toJobFields, type JobColumns, type JobFields } from './job-row.js';
import { OPEN_JOB_STATUSES } from '#workflows/job-status.js';

// The job store's submissions: how a job is first recorded, with its steps, its creation event and
// its outbox row. job-store.ts hands them out with its transitions; it stays the one owner of the
// job tables, this file is only where its submission half is written.

/** A job to record, as the API's submission made it. */
export interface NewJob {
  id: string;
  organizationId: string;
  userId: string | null;
  apiKeyId: string | null;
  inputMediaId: string;
  actionId: string;
  actionCategory: ProcessingJob['actionCategory'];
  workflowId: string;
  maxRetries: number;
  steps: { actionId: string; parameters: Record<string, unknown> }[];
}

/** A job as `createQueued` recorded it. */
export type QueuedJob = JobFields;

/** A query on the submission's own connection, inside its transaction. */
export type TxQuery = <R extends object>(text: string, values: unknown[]) => Promise<R[]>;

/**
 * Admits a submission against the organization's concurrent-jobs quota: reads the quotas that hold
 * now, under a lock on the organization's row that lasts until the job is recorded (so concurrent
 * submissions of one organization take turns). `concurrentJobs` 0: no limit.
 */
export type JobAdmission = (q: TxQuery) => Promise<{ concurrentJobs: number; retentionHours?: number }>;

/** createQueued recorded nothing: the organization already has `limit` open jobs. */
export interface QuotaRefusal {
  refused: { concurrentJobs: number };
}

// The open statuses as an SQL list (fixed identifiers, not input).
const OPEN_SQL = OPEN_JOB_STATUSES.map((st) => `'${st}'`).join(', ');

/**
 * createQueued's statement: the job, its steps, its status event and its outbox row, at once. The
 * event notifies no stream (`CREATED_JOB_SETTING`, set before the row is inserted): none can follow
 * the job yet. With a concurrent-jobs limit ($17 > 0) nothing is inserted when the organization
 * already has that many open jobs; the count is only exact under the lock on the organization's row
 * taken by an earlier statement of the transaction (a statement's snapshot predates its own waits).
 */
const CREATE_QUEUED_STATEMENT = 'mediaflow_job_create_queued_v2';
const CREATE_QUEUED_SQL = `
with j as (
  insert into "processing_jobs" ("id", "organization_id", "user_id", "api_key_id", "input_media_id", "action_id", "action_category",
    "parameters", "status", "workflow_id", "total_steps", "max_retries", "expires_at", "queued_at")
  select $1::uuid, $2::uuid, $3::uuid, $4::uuid, $5::uuid, $6, $7, $8::jsonb, 'queued', $9, $10::int, $11::int, $12::timestamptz, $13::timestamptz
  where $17::int = 0
     or (select count(*) from "processing_jobs" where "organization_id" = $2 and "status" in (${OPEN_SQL})) < $17
  returning ${jobColumns()}),
s as (
  insert into "job_steps" ("job_id", "step_index", "action_id", "parameters")
  select j."id", t."ord" - 1, t."step" ->> 'actionId', coalesce(t."step" -> 'parameters', '{}'::jsonb)
  from j, jsonb_array_elements($14::jsonb) with ordinality as t("step", "ord")),
e as (
  insert into "job_events" ("job_id", "type", "data")
  select "id", 'status', jsonb_build_object('status', 'queued', 'progress', "progress", 'current_step', "current_step", 'total_steps', "total_steps", 'retry_count', "retry_count")
  from j where set_config('${CREATED_JOB_SETTING}', j."id"::text, true) is not null),
d as (insert into "job_dispatches" ("job_id", "start", "next_attempt_at") select "id", $15::jsonb, $16 from j)
select * from j`;

export function createJobSubmissions(deps: { orm: MikroORM; clock: Clock }) {
  return {
    /**
     * Submission whose workflow the API starts itself (no outbox): the job pending and its steps, in
     * one transaction that `admit` runs in first (the concurrent-jobs quota: it throws to refuse the
     * job; it may name the organization's retention, after which the job is deleted).
     */
    async create(
      em: EntityManager,
      admit: (tx: EntityManager) => Promise<{ retentionHours?: number } | void>,
      input: NewJob,
    ): Promise<ProcessingJob> {
      await em.transactional(async (tx) => {
        const admitted = await admit(tx as EntityManager);
        const hours = admitted ? admitted.retentionHours : undefined;
        const job = tx.create(ProcessingJobSchema, {
          id: input.id,
          organization: input.organizationId,
          userId: input.userId,
          apiKeyId: input.apiKeyId,
          inputMedia: input.inputMediaId,
          actionId: input.actionId,
          actionCategory: input.actionCategory,
          parameters: input.steps[0]!.parameters,
          status: 'pending',
          workflowId: input.workflowId,
          totalSteps: input.steps.length,
          maxRetries: input.maxRetries,
          expiresAt: hours ? new Date(deps.clock.now().getTime() + hours * 3_600_000) : null,
        });
        input.steps.forEach((step, stepIndex) => tx.create(JobStepSchema, { job, stepIndex, actionId: step.actionId, parameters: step.parameters }));
      });
      return em.findOneOrFail(ProcessingJobSchema, { id: input.id });
    },

    /**
     * Submission: the job queued, its steps, its status event and its outbox row in `job_dispatches`,
     * in one statement (atomic, one round trip: it sits on the submission's path). With `admit` (a
     * concurrent-jobs quota to hold) the statement runs in a transaction after admit's locking read
     * and records nothing when the organization is at its limit. Returns the job as recorded.
     */
    async createQueued(
      input: NewJob,
      opts: { retentionHours?: number; start: unknown; notBefore: Date; admit?: JobAdmission },
    ): Promise<QueuedJob | QuotaRefusal> {
      // Named statements on the ORM's pg pool: planned once per connection (the ORM sends its
      // statements with their values inlined, planned again on every submission).
      const pool = await deps.orm.em.getConnection().getNativeClient();
      const insert = async (q: Pick<typeof pool, 'query'>, quota: { concurrentJobs: number; retentionHours?: number }) => {
        const now = deps.clock.now();
        const expiresAt = quota.retentionHours ? new Date(now.getTime() + quota.retentionHours * 3_600_000) : null;
        const { rows } = await q.query<JobColumns>({
          name: CREATE_QUEUED_STATEMENT,
          text: CREATE_QUEUED_SQL,
          values: [
            input.id,
            input.organizationId,
            input.userId,
            input.apiKeyId,
            input.inputMediaId,
            input.actionId,
            input.actionCategory,
            JSON.stringify(input.steps[0]!.parameters),
            input.workflowId,
            input.steps.length,
            input.maxRetries,
            expiresAt,
            now,
            JSON.stringify(input.steps.map((st) => ({ actionId: st.actionId, parameters: st.parameters }))),
            JSON.stringify(opts.start),
            opts.notBefore,
            quota.concurrentJobs,
          ],
        });
        return rows[0] ? toJobFields(rows[0]) : { refused: { concurrentJobs: quota.concurrentJobs } };
      };
      if (!opts.admit) return insert(pool, { concurrentJobs: 0, retentionHours: opts.retentionHours });
      const admit = opts.admit;
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('begin');
        const tx: TxQuery = async (text, values) => (await client.query(text, values)).rows;
        const recorded = await insert(client, await admit(tx));
        await client.query('refused' in recorded ? 'rollback' : 'commit');
        return recorded;
      } catch (err) {
        // A connection that cannot roll back is not handed to the next submission.
        await client.query('rollback').catch((e: Error) => (broken = e));
        throw err;
      } finally {
        client.release(broken);
      }
    },
  };
}
