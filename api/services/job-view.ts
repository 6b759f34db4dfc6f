import { jobColumns, toJobFields, type JobColumns } from '../../domain/job-row.js';
import type { JobFields } from '../../domain/job-store.js';
import type { JobStep } from '../../entities/index.js';
import { NotFoundError } from '../../lib/errors.js';
import type { Principal } from '../auth/principal.js';
import type { ApiDeps } from '../deps.js';

export type { JobFields };

/** A step's fields a reply shows. */
export type StepFields = Pick<
  JobStep,
  'id' | 'stepIndex' | 'actionId' | 'parameters' | 'status' | 'attempts' | 'progress' | 'startedAt' | 'completedAt' | 'processingTimeMs' | 'errorCode' | 'errorMessage' | 'resultType' | 'resultData'
>;

// One round trip for the hottest read: the share check (the caller's organization, or an active
// share of the job's input with the caller), the job and its steps (as one JSON column). A named
// (prepared) statement: each pooled connection plans it once, where planning it again per request
// cost Postgres more than running it.
/** A job's columns (of `processing_jobs j`) as `JobColumns` reads them. */
export const JOB_COLUMNS = jobColumns('j');

const VIEW_SQL = `
select ${JOB_COLUMNS},
       (select coalesce(json_agg(json_build_object(
                 'id', s."id", 'stepIndex', s."step_index", 'actionId', s."action_id", 'parameters', s."parameters", 'status', s."status",
                 'attempts', s."attempts", 'progress', s."progress", 'startedAt', s."started_at", 'completedAt', s."completed_at",
                 'processingTimeMs', s."processing_time_ms", 'errorCode', s."error_code", 'errorMessage', s."error_message",
                 'resultType', s."result_type", 'resultData', s."result_data") order by s."step_index"), '[]'::json)
        from "job_steps" s where s."job_id" = j."id") as "steps"
from "processing_jobs" j
where j."id" = $1 and (j."organization_id" = $2 or exists (
  select 1 from "media_shares" m
  where m."media_id" = j."input_media_id" and (m."grantee_user_id" = $3 or m."grantee_organization_id" = $2)
    and (m."expires_at" is null or m."expires_at" > $4)))`;
const VIEW_STATEMENT = 'mediaflow_job_view';

interface ViewRow extends JobColumns {
  steps: (Omit<StepFields, 'startedAt' | 'completedAt'> & { startedAt: string | null; completedAt: string | null })[];
}

// The ORM's driver keeps timestamps as strings; JSON has them in ISO form.
const date = (v: string | Date | null) => (v === null ? null : new Date(v));

/** GET /jobs/{id}: the job (with its steps) the caller may read, or NOT_FOUND. */
export function createJobView(deps: Pick<ApiDeps, 'orm' | 'clock'>) {
  return async function view(principal: Principal, id: string): Promise<{ job: JobFields; steps: StepFields[] }> {
    // The ORM's own pg pool, without the query builder's layers around it (the same row types).
    const pool = await deps.orm.em.getConnection().getNativeClient();
    const { rows } = await pool.query<ViewRow>({
      name: VIEW_STATEMENT,
      text: VIEW_SQL,
      values: [id, principal.organizationId, principal.userId, deps.clock.now()],
    });
    const row = rows[0];
    if (!row) throw new NotFoundError('Job', id);
    const job = toJobFields(row);
    const steps = row.steps.map((s) => ({ ...s, startedAt: date(s.startedAt), completedAt: date(s.completedAt) }));
    return { job, steps };
  };
}
