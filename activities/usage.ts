import type { EntityManager } from '@mikro-orm/postgresql';
import { UsageRecordSchema } from '../entities/index.js';
import { stepCredits } from '../lib/credits.js';

/** What one job step consumed, recorded when the step reaches a terminal state. */
export interface StepUsage {
  organizationId: string;
  jobId: string;
  /** 0 for the first step; (job_id, step_index) is unique. */
  stepIndex: number;
  userId?: string | null;
  apiKeyId?: string | null;
  actionId: string;
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
 * Inserts the step's usage row unless it exists. Call it inside the transaction that records the
 * step's terminal state: a retried bookkeeping activity then neither doubles nor loses it.
 */
export async function recordStepUsage(em: EntityManager, u: StepUsage): Promise<void> {
  await em.execute(
    `insert into "${UsageRecordSchema.meta.tableName}" ("organization_id", "user_id", "api_key_id", "job_id", "step_index", "action_type", "action_id",
       "media_type", "file_size_bytes", "bytes_in", "bytes_out", "processing_time_ms", "ai_provider", "ai_tokens_used", "credits_used")
     values (?, ?, ?, ?, ?, 'PROCESS', ?, ?, ?, ?, ?, ?, ?, ?, ?)
     on conflict ("job_id", "step_index") do nothing`,
    [
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
    ],
  );
}
