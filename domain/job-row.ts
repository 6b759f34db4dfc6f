import type { ProcessingJob } from '#entities/index.js';

/** The job's fields a reply shows (an entity, or a row read by plain SQL, has them). */
export type JobFields = Pick<
  ProcessingJob,
  | 'id' | 'status' | 'actionId' | 'parameters' | 'progress' | 'retryCount' | 'maxRetries' | 'createdAt' | 'queuedAt' | 'startedAt' | 'completedAt'
  | 'processingTimeMs' | 'workflowId' | 'currentStep' | 'totalSteps' | 'cancelledAt' | 'cancelledBy' | 'cancelReason' | 'errorCode' | 'errorMessage'
  | 'resultType' | 'resultData'
> & { inputMedia: { id: string } };

/** The `processing_jobs` columns a job reply shows, in the order `JobColumns` names them. */
const NAMES = [
  'id', 'status', 'action_id', 'input_media_id', 'parameters', 'progress', 'retry_count', 'max_retries', 'created_at', 'queued_at',
  'started_at', 'completed_at', 'processing_time_ms', 'workflow_id', 'current_step', 'total_steps', 'cancelled_at', 'cancelled_by',
  'cancel_reason', 'error_code', 'error_message', 'result_type', 'result_data',
] as const;

/** JOB_COLUMNS as a select list (or RETURNING list), each column qualified by `alias` when one is given. */
export const jobColumns = (alias?: string): string => NAMES.map((n) => (alias ? `${alias}."${n}"` : `"${n}"`)).join(', ');

/** A row of jobColumns(); the ORM's driver and pg keep timestamps as strings or Dates. */
export interface JobColumns {
  id: string;
  status: ProcessingJob['status'];
  action_id: string;
  input_media_id: string;
  parameters: Record<string, unknown>;
  progress: number;
  retry_count: number;
  max_retries: number;
  created_at: string | Date;
  queued_at: string | Date | null;
  started_at: string | Date | null;
  completed_at: string | Date | null;
  processing_time_ms: number | null;
  workflow_id: string | null;
  current_step: number | null;
  total_steps: number;
  cancelled_at: string | Date | null;
  cancelled_by: string | null;
  cancel_reason: string | null;
  error_code: string | null;
  error_message: string | null;
  result_type: ProcessingJob['resultType'];
  result_data: ProcessingJob['resultData'];
}

const date = (v: string | Date | null) => (v === null ? null : new Date(v));

/** JobFields from a row of jobColumns(). */
export function toJobFields(row: JobColumns): JobFields {
  return {
    id: row.id,
    status: row.status,
    actionId: row.action_id,
    inputMedia: { id: row.input_media_id },
    parameters: row.parameters,
    progress: Number(row.progress),
    retryCount: row.retry_count,
    maxRetries: row.max_retries,
    createdAt: new Date(row.created_at),
    queuedAt: date(row.queued_at),
    startedAt: date(row.started_at),
    completedAt: date(row.completed_at),
    processingTimeMs: row.processing_time_ms,
    workflowId: row.workflow_id,
    currentStep: row.current_step,
    totalSteps: row.total_steps,
    cancelledAt: date(row.cancelled_at),
    cancelledBy: row.cancelled_by,
    cancelReason: row.cancel_reason,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    resultType: row.result_type,
    resultData: row.result_data,
  };
}
