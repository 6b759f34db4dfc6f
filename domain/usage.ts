import type { EntityManager } from '@mikro-orm/postgresql';
import { UsageRecordSchema } from '#entities/index.js';
import { stepCredits } from '#lib/credits.js';

/** What one job step consumed, recorded when the step reaches a terminal state. */
export interface StepUsage {
  organizationId: string;
  jobId: string;
  /** 0 for the first step; (job_id, step_index) is unique. */
  stepIndex: number;
  userId?: string | null;
  apiKeyId?: string | null;
  actionId: string;
  /** The action's price tier (lib/credits.ts), under the name the jobs table stores it by. */
  actionCategory: string;
  mediaType: string;
  bytesIn: number;
  bytesOut: number;
  processingTimeMs: number | null;
  aiProvider?: string | null;
  aiTokens?: number | null;
  succeeded: boolean;
}

/**
 * Records the step's usage: one row per (job, step), replaced by each later terminal attempt, so a
 * step that failed and then succeeded on a job retry is billed for the success (and only once).
 * Call it inside the transaction that records the step's terminal state: a retried bookkeeping
 * activity writes the same values again, neither doubling nor losing them.
 */
export async function recordStepUsage(em: EntityManager, u: StepUsage): Promise<void> {
  await em.execute(STEP_USAGE_SQL, stepUsageParams(u));
}

/** The usage upsert as one statement (a job store transition may run it as a part of its own). */
export const STEP_USAGE_SQL = `insert into "${UsageRecordSchema.meta.tableName}" ("organization_id", "user_id", "api_key_id", "job_id", "step_index", "action_type", "action_id",
       "media_type", "file_size_bytes", "bytes_in", "bytes_out", "processing_time_ms", "ai_provider", "ai_tokens_used", "credits_used")
     values (?, ?, ?, ?, ?, 'PROCESS', ?, ?, ?, ?, ?, ?, ?, ?, ?)
     on conflict ("job_id", "step_index") do update set
       "user_id" = excluded."user_id", "api_key_id" = excluded."api_key_id", "action_id" = excluded."action_id",
       "media_type" = excluded."media_type", "file_size_bytes" = excluded."file_size_bytes", "bytes_in" = excluded."bytes_in",
       "bytes_out" = excluded."bytes_out", "processing_time_ms" = excluded."processing_time_ms", "ai_provider" = excluded."ai_provider",
       "ai_tokens_used" = excluded."ai_tokens_used", "credits_used" = excluded."credits_used", "timestamp" = now()`;

export function stepUsageParams(u: StepUsage): unknown[] {
  return [
    u.organizationId,
    u.userId ?? null,
    u.apiKeyId ?? null,
    u.jobId,
    u.stepIndex,
    u.actionId,
    u.mediaType,
    u.bytesIn,
    u.bytesIn,
    u.bytesOut,
    u.processingTimeMs,
    u.aiProvider ?? null,
    u.aiTokens ?? null,
    stepCredits(u.actionCategory, u.aiTokens ?? 0, u.succeeded),
  ];
}
