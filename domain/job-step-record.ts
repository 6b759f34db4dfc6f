import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { JobStatus } from '#workflows/job-status.js';
import type { StepResult } from '#workflows/types.js';
import { STEP_USAGE_SQL, stepUsageParams } from './usage.js';

/*
 * The job store's hottest transition, a step's output recorded (and, for the last step, the job
 * completed), in two statements inside its transaction: one read that locks the job row and brings
 * the input file's and the step's fields with it, one write (a CTE) that inserts the result's
 * media file, updates step and job, upserts the step's usage and appends the events. The ORM path
 * it replaces took about a dozen round trips under the job row's lock.
 */

interface Locked {
  status: JobStatus;
  action_id: string;
  organization_id: string;
  user_id: string | null;
  api_key_id: string | null;
  action_category: string;
  progress: number;
  total_steps: number;
  retry_count: number;
  started_at: string | null;
  ai_tokens_used: number | null;
  original_filename: string;
  input_media_type: string;
  input_size: string;
  step_id: string;
  step_status: string;
  step_action_id: string;
  /** The job's end of life (its organization's retention): its results go with it. */
  expires_at: Date | string | null;
  step_started_at: string | null;
}

export interface RecordDeps {
  now: Date;
  retentionDays: number;
  actions?: { get(actionId: string): { priceTier: string; mediaType: string } | undefined };
}

export interface RecordInput {
  jobId: string;
  stepIndex: number;
  inputSizeBytes: number | null;
  result: StepResult;
  complete: boolean;
}

/** What the fast path did: `fallback` when the step is not plainly recordable (already recorded: the ORM path decides). */
export type RecordOutcome =
  | { kind: 'terminal'; status: JobStatus }
  | { kind: 'recorded'; status: JobStatus; finished?: { actionId: string; status: JobStatus; processingTimeMs: number | null } }
  | { kind: 'fallback' };

const mediaTypeOf = (mimeType: string) => (mimeType.startsWith('audio/') ? 'audio' : 'image');

export function resultFilename(original: string, extension: string): string {
  const base = original.replace(/\.[^.]*$/, '') || 'result';
  return `${base}.${extension}`.slice(0, 255);
}

export async function recordStepOutput(tx: EntityManager, deps: RecordDeps, input: RecordInput): Promise<RecordOutcome> {
  const [job] = await tx.execute<Locked[]>(
    `select j."status", j."action_id", j."organization_id", j."user_id", j."api_key_id", j."action_category", j."progress", j."total_steps",
            j."retry_count", j."started_at", j."ai_tokens_used", j."expires_at", i."original_filename", i."media_type" as "input_media_type",
            i."file_size_bytes" as "input_size", s."id" as "step_id", s."status" as "step_status", s."action_id" as "step_action_id",
            s."started_at" as "step_started_at"
     from "processing_jobs" j
     join "media_files" i on i."id" = j."input_media_id"
     join "job_steps" s on s."job_id" = j."id" and s."step_index" = ?
     where j."id" = ? for update of j`,
    [input.stepIndex, input.jobId],
  );
  if (!job) throw new Error(`job ${input.jobId} has no step ${input.stepIndex}`);
  const terminal = job.status === 'completed' || job.status === 'failed' || job.status === 'cancelled';
  if (terminal) return { kind: 'terminal', status: job.status };
  if (job.step_status === 'completed') return { kind: 'fallback' };

  const { now } = deps;
  const { result } = input;
  const ms = (at: string | null) => (at ? now.getTime() - new Date(at).getTime() : null);
  const stepTime = ms(job.step_started_at);
  const progress = Math.max(Number(job.progress), (input.stepIndex + 1) / job.total_steps);
  const usage = result.type === 'json' ? result.usage : undefined;
  const tokens = usage ? usage.inputTokens + usage.outputTokens : null;
  const resultData =
    result.type === 'file'
      ? { mime_type: result.mimeType, file_size_bytes: result.sizeBytes, ...(result.data ? { data: result.data } : {}) }
      : { data: result.data };
  const mediaId = result.type === 'file' ? randomUUID() : null;
  const action = deps.actions?.get(job.step_action_id);

  const sql: string[] = [];
  const params: unknown[] = [];
  if (result.type === 'file') {
    sql.push(`m as (insert into "media_files" ("id", "organization_id", "original_filename", "stored_filename", "mime_type", "media_type",
        "file_size_bytes", "storage_path", "checksum_md5", "checksum_sha256", "status", "metadata", "expires_at")
      values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'ready', ?, ?))`);
    params.push(
      mediaId, job.organization_id, resultFilename(job.original_filename, result.extension), result.key.split('/').pop(), result.mimeType,
      mediaTypeOf(result.mimeType), result.sizeBytes, result.key, result.checksumMd5, result.checksumSha256, JSON.stringify(result.data ?? {}),
      job.expires_at ? new Date(job.expires_at) : new Date(now.getTime() + deps.retentionDays * 86_400_000),
    );
  }
  sql.push(`s as (update "job_steps" set "status" = 'completed', "progress" = 1, "completed_at" = ?, "processing_time_ms" = ?,
      "result_type" = ?, "result_media_id" = ?, "result_data" = ?, "result" = ?, "error_code" = null, "error_message" = null, "updated_at" = now()
    where "id" = ?)`);
  params.push(now, stepTime, result.type, mediaId, JSON.stringify(resultData), JSON.stringify(result), job.step_id);
  sql.push(`u as (${STEP_USAGE_SQL})`);
  params.push(
    ...stepUsageParams({
      organizationId: job.organization_id,
      jobId: input.jobId,
      stepIndex: input.stepIndex,
      userId: job.user_id,
      apiKeyId: job.api_key_id,
      actionId: job.step_action_id,
      actionCategory: action?.priceTier ?? job.action_category,
      mediaType: action?.mediaType ?? job.input_media_type,
      bytesIn: input.inputSizeBytes ?? Number(job.input_size),
      bytesOut: result.type === 'file' ? result.sizeBytes : Buffer.byteLength(JSON.stringify(result.data)),
      processingTimeMs: stepTime,
      aiProvider: usage?.provider ?? null,
      aiTokens: tokens,
      succeeded: true,
    }),
  );
  const events: unknown[][] = [
    [input.jobId, 'progress', { progress, current_step: input.stepIndex, total_steps: job.total_steps, step_progress: 1, step_status: 'completed' }],
  ];
  const jobTime = ms(job.started_at);
  if (input.complete) {
    sql.push(`j as (update "processing_jobs" set "progress" = 1, "ai_provider" = coalesce(?, "ai_provider"), "ai_tokens_used" = ?,
        "result_type" = ?, "result_media_id" = ?, "result_data" = ?, "current_step" = ?, "status" = 'completed', "completed_at" = ?,
        "processing_time_ms" = ?, "updated_at" = now()
      where "id" = ?)`);
    params.push(usage?.provider ?? null, tokens === null ? job.ai_tokens_used : (job.ai_tokens_used ?? 0) + tokens, result.type, mediaId, JSON.stringify(resultData), input.stepIndex, now, jobTime, input.jobId);
    events.push([input.jobId, 'status', { status: 'completed', progress: 1, current_step: input.stepIndex, total_steps: job.total_steps, retry_count: job.retry_count }]);
  } else {
    sql.push(`j as (update "processing_jobs" set "progress" = ?, "ai_provider" = coalesce(?, "ai_provider"), "ai_tokens_used" = ?, "updated_at" = now() where "id" = ?)`);
    params.push(progress, usage?.provider ?? null, tokens === null ? job.ai_tokens_used : (job.ai_tokens_used ?? 0) + tokens, input.jobId);
  }
  const values = events.map(() => '(?, ?, ?)').join(', ');
  params.push(...events.flatMap(([id, type, data]) => [id, type, JSON.stringify(data)]));
  await tx.execute(`with ${sql.join(',\n')}\ninsert into "job_events" ("job_id", "type", "data") values ${values}`, params);
  const status: JobStatus = input.complete ? 'completed' : job.status === 'processing' ? 'processing' : job.status;
  return input.complete
    ? { kind: 'recorded', status, finished: { actionId: job.action_id, status, processingTimeMs: jobTime } }
    : { kind: 'recorded', status };
}
