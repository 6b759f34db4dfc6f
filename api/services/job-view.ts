import { jobColumns, toJobFields, type JobColumns } from '#domain/job-row.js';
import type { JobFields } from '#domain/job-store.js';
import type { JobStep } from '#entities/index.js';
import { batchLoader, byOrdinality } from '#lib/batch-loader.js';
import { isUuid } from '#lib/tokens.js';
import { NotFoundError } from '#lib/errors.js';
import type { Principal } from '../auth/principal.js';
import type { ApiDeps } from '../deps.js';

export type { JobFields };

/** A step's fields a reply shows. */
export type StepFields = Pick<
  JobStep,
  'id' | 'stepIndex' | 'actionId' | 'parameters' | 'status' | 'attempts' | 'progress' | 'startedAt' | 'completedAt' | 'processingTimeMs' | 'errorCode' | 'errorMessage' | 'resultType' | 'resultData'
>;

// One round trip for the hottest read: the share check (the caller's organization, or an active
// share of the job's input with the caller), the job and its steps (as one JSON column). Look-ups
// made together (one event-loop turn, or while earlier ones are out) go as one statement, each
// with its own caller in the share check, so a batch never shows a job to a caller who could not
// read it alone. A named (prepared) statement: each pooled connection plans it once, where
// planning it again per request cost Postgres more than running it. The lateral join keeps the
// plan a primary-key look-up per id, whatever the planner guesses of the arrays' length.
/** A job's columns (of `processing_jobs j`) as `JobColumns` reads them. */
export const JOB_COLUMNS = jobColumns('j');

const VIEW_SQL = `
select q."k", v.*
from unnest($1::uuid[], $2::uuid[], $3::uuid[]) with ordinality as q("job_id", "org_id", "user_id", "k")
cross join lateral (
  select ${JOB_COLUMNS},
         (select coalesce(json_agg(json_build_object(
                   'id', s."id", 'stepIndex', s."step_index", 'actionId', s."action_id", 'parameters', s."parameters", 'status', s."status",
                   'attempts', s."attempts", 'progress', s."progress", 'startedAt', s."started_at", 'completedAt', s."completed_at",
                   'processingTimeMs', s."processing_time_ms", 'errorCode', s."error_code", 'errorMessage', s."error_message",
                   'resultType', s."result_type", 'resultData', s."result_data") order by s."step_index"), '[]'::json)
          from "job_steps" s where s."job_id" = j."id") as "steps"
  from "processing_jobs" j
  where j."id" = q."job_id" and (j."organization_id" = q."org_id" or exists (
    select 1 from "media_shares" m
    where m."media_id" = j."input_media_id" and (m."grantee_user_id" = q."user_id" or m."grantee_organization_id" = q."org_id")
      and (m."expires_at" is null or m."expires_at" > $4)))) v`;
const VIEW_STATEMENT = 'mediaflow_job_view_batch';

/** Look-ups per statement, and statements out at once (the pool has DATABASE_POOL_MAX connections for everything else too). */
const BATCH = { maxBatch: 100, maxInFlight: 3 };

interface ViewRow extends JobColumns {
  k: string;
  steps: (Omit<StepFields, 'startedAt' | 'completedAt'> & { startedAt: string | null; completedAt: string | null })[];
}

// The ORM's driver keeps timestamps as strings; JSON has them in ISO form.
const date = (v: string | Date | null) => (v === null ? null : new Date(v));

interface Lookup {
  id: string;
  organizationId: string;
  userId: string;
}

/** GET /jobs/{id}: the job (with its steps) the caller may read, or NOT_FOUND. */
export function createJobView(deps: Pick<ApiDeps, 'orm' | 'clock'>) {
  const load = batchLoader<Lookup, ViewRow>(async (keys) => {
    // The ORM's own pg pool, without the query builder's layers around it (the same row types).
    const pool = await deps.orm.em.getConnection().getNativeClient();
    const { rows } = await pool.query<ViewRow>({
      name: VIEW_STATEMENT,
      text: VIEW_SQL,
      values: [keys.map((k) => k.id), keys.map((k) => k.organizationId), keys.map((k) => k.userId), deps.clock.now()],
    });
    return byOrdinality(rows, keys.length);
  }, BATCH);

  return async function view(principal: Principal, id: string): Promise<{ job: JobFields; steps: StepFields[] }> {
    // Not a uuid: no job, and no cast error to fail the look-ups batched with it.
    const row = isUuid(id) ? await load({ id, organizationId: principal.organizationId, userId: principal.userId }) : undefined;
    if (!row) throw new NotFoundError('Job', id);
    const job = toJobFields(row);
    const steps = row.steps.map((s) => ({ ...s, startedAt: date(s.startedAt), completedAt: date(s.completedAt) }));
    return { job, steps };
  };
}
