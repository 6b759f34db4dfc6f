import { JOB_STATUSES, MediaFileSchema, ProcessingJobSchema, UsageRecordSchema, type UsageActionType } from '../../entities/index.js';
import { ValidationError } from '../../lib/errors.js';
import type { ApiDeps } from '../deps.js';
import { createUsageBuffer } from './usage-buffer.js';

/** One API request, as the usage middleware saw it once the response was sent. */
export interface RequestUsage {
  organizationId: string;
  userId?: string;
  apiKeyId?: string;
  actionType: UsageActionType;
  endpoint: string;
  method: string;
  status: number;
  ip: string;
  userAgent?: string;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
  /** Uploads: the stored file. */
  fileSizeBytes?: number;
  mediaType?: string;
}

export interface Period {
  from: Date;
  to: Date;
}
export type UsageGroupBy = 'day' | 'action' | 'api_key';

const T = UsageRecordSchema.meta.tableName;
const n = (v: unknown): number => Number(v ?? 0);

// Sums over usage rows; "requests" are every non-PROCESS row, "steps" the PROCESS ones.
const TOTALS = `
  count(*) filter (where action_type <> 'PROCESS') as requests,
  count(*) filter (where action_type <> 'PROCESS' and response_status >= 400) as errors,
  count(*) filter (where action_type = 'PROCESS') as steps,
  coalesce(sum(bytes_in), 0) as bytes_in,
  coalesce(sum(bytes_out), 0) as bytes_out,
  coalesce(sum(ai_tokens_used), 0) as ai_tokens,
  coalesce(sum(processing_time_ms), 0) as processing_time_ms,
  coalesce(sum(credits_used), 0) as credits`;

type TotalsRow = Record<'requests' | 'errors' | 'steps' | 'bytes_in' | 'bytes_out' | 'ai_tokens' | 'processing_time_ms' | 'credits', string>;
const totals = (r: TotalsRow) => ({
  requests: n(r.requests),
  errors: n(r.errors),
  steps: n(r.steps),
  bytes_in: n(r.bytes_in),
  bytes_out: n(r.bytes_out),
  ai_tokens: n(r.ai_tokens),
  processing_time_ms: n(r.processing_time_ms),
  credits: n(r.credits),
});

export function createUsageService(deps: ApiDeps) {
  const { orm, clock } = deps;
  const buffer = createUsageBuffer({ orm, logger: deps.logger, ...deps.config.metering });
  return {
    /** Called after a response was sent: queued, written in the next batch (see usage-buffer.ts). */
    async recordRequest(u: RequestUsage): Promise<void> {
      buffer.add(u);
    },
    /** Writes the queued request rows now. */
    flush: () => buffer.flush(),
    /** At shutdown, once no request is left: writes the queued rows and stops the timer. */
    close: () => buffer.close(),

    /** `from`/`to` of a usage query: defaults to this month (UTC) until now; from < to. */
    period(from?: string, to?: string): Period {
      const now = clock.now();
      const p = {
        from: from ? new Date(from) : new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)),
        to: to ? new Date(to) : now,
      };
      if (!(p.from < p.to)) {
        throw new ValidationError('The period is empty', { fields: [{ field: 'from', location: 'query', message: 'must be before to' }] });
      }
      return p;
    },

    async summary(organizationId: string, p: Period) {
      const em = orm.em.fork();
      const [row] = await em.execute<(TotalsRow & Record<'bytes_uploaded' | 'bytes_downloaded' | 'bytes_processed' | 'bytes_produced', string>)[]>(
        `select ${TOTALS},
           coalesce(sum(file_size_bytes) filter (where action_type = 'UPLOAD' and response_status < 300), 0) as bytes_uploaded,
           coalesce(sum(bytes_out) filter (where action_type = 'DOWNLOAD' and response_status < 300), 0) as bytes_downloaded,
           coalesce(sum(bytes_in) filter (where action_type = 'PROCESS'), 0) as bytes_processed,
           coalesce(sum(bytes_out) filter (where action_type = 'PROCESS'), 0) as bytes_produced
         from ${T} where organization_id = ? and "timestamp" >= ? and "timestamp" < ?`,
        [organizationId, p.from, p.to],
      );
      const jobs = await em.execute<{ status: string; count: string }[]>(
        `select status, count(*) as count from ${ProcessingJobSchema.meta.tableName}
          where organization_id = ? and created_at >= ? and created_at < ? group by status`,
        [organizationId, p.from, p.to],
      );
      const [storage] = await em.execute<{ used: string; files: string }[]>(
        `select coalesce(sum(file_size_bytes), 0) as used, count(*) as files from ${MediaFileSchema.meta.tableName}
          where organization_id = ? and status <> 'deleted' and expires_at > ?`,
        [organizationId, clock.now()],
      );
      const t = totals(row!);
      const byStatus = Object.fromEntries(JOB_STATUSES.map((s) => [s, n(jobs.find((j) => j.status === s)?.count)]));
      return {
        period: { from: p.from.toISOString(), to: p.to.toISOString() },
        requests: { total: t.requests, errors: t.errors },
        jobs: { total: Object.values(byStatus).reduce((a, b) => a + b, 0), by_status: byStatus },
        steps: t.steps,
        bytes_uploaded: n(row!.bytes_uploaded),
        bytes_downloaded: n(row!.bytes_downloaded),
        bytes_processed: n(row!.bytes_processed),
        bytes_produced: n(row!.bytes_produced),
        ai_tokens: t.ai_tokens,
        processing_time_ms: t.processing_time_ms,
        credits: t.credits,
        storage: { used_bytes: n(storage?.used), files: n(storage?.files) },
      };
    },

    async detailed(organizationId: string, p: Period, groupBy: UsageGroupBy) {
      const key = {
        day: `to_char("timestamp" at time zone 'UTC', 'YYYY-MM-DD')`,
        action: 'action_id',
        api_key: 'api_key_id::text',
      }[groupBy];
      const only = groupBy === 'action' ? `and action_type = 'PROCESS'` : '';
      const rows = await orm.em.fork().execute<(TotalsRow & { key: string | null })[]>(
        `select ${key} as key, ${TOTALS} from ${T}
          where organization_id = ? and "timestamp" >= ? and "timestamp" < ? ${only}
          group by 1 order by 1 nulls first`,
        [organizationId, p.from, p.to],
      );
      return {
        period: { from: p.from.toISOString(), to: p.to.toISOString() },
        group_by: groupBy,
        groups: rows.map((r) => ({ key: r.key, ...totals(r) })),
      };
    },
  };
}

export type UsageService = ReturnType<typeof createUsageService>;
