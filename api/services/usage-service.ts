import { JOB_STATUSES, MediaFileSchema, ProcessingJobSchema, UsageRecordSchema, type UsageActionType } from '#entities/index.js';
import { ValidationError } from '#lib/errors.js';
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
export type UsageGroupBy = 'day' | 'action' | 'api_key' | 'endpoint';

const T = UsageRecordSchema.meta.tableName;
const n = (v: unknown): number => Number(v ?? 0);

// Sums over usage rows; "requests" are every non-PROCESS row, "steps" the PROCESS ones.
const TOTALS = `
  count(*) filter (where action_type <> 'PROCESS') as requests,
  count(*) filter (where action_type <> 'PROCESS' and response_status >= 400) as errors,
  count(*) filter (where action_type <> 'PROCESS' and response_status >= 500) as server_errors,
  count(*) filter (where action_type = 'PROCESS') as steps,
  coalesce(sum(bytes_in), 0) as bytes_in,
  coalesce(sum(bytes_out), 0) as bytes_out,
  coalesce(sum(bytes_in) filter (where action_type <> 'PROCESS'), 0) as request_bytes_in,
  coalesce(sum(bytes_out) filter (where action_type <> 'PROCESS'), 0) as request_bytes_out,
  coalesce(sum(ai_tokens_used), 0) as ai_tokens,
  coalesce(sum(processing_time_ms), 0) as processing_time_ms,
  coalesce(sum(credits_used), 0) as credits`;

type TotalsRow = Record<
  'requests' | 'errors' | 'server_errors' | 'steps' | 'bytes_in' | 'bytes_out' | 'request_bytes_in' | 'request_bytes_out' | 'ai_tokens' | 'processing_time_ms' | 'credits',
  string
>;
const rate = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : 0);
const totals = (r: TotalsRow) => ({
  requests: n(r.requests),
  errors: n(r.errors),
  server_errors: n(r.server_errors),
  error_rate: rate(n(r.errors), n(r.requests)),
  steps: n(r.steps),
  bytes_in: n(r.bytes_in),
  bytes_out: n(r.bytes_out),
  bandwidth: { bytes_in: n(r.request_bytes_in), bytes_out: n(r.request_bytes_out) },
  ai_tokens: n(r.ai_tokens),
  processing_time_ms: n(r.processing_time_ms),
  credits: n(r.credits),
});

/**
 * How long a job waited in the queue before its first step started: from its queued_at (or its
 * creation, when its workflow started it before the submission marked it queued) to started_at.
 * A retried job counts its first run only.
 */
const QUEUE_WAIT = `extract(epoch from (j.started_at - coalesce(j.queued_at, j.created_at))) * 1000`;
const QUEUE_STATS = `
  count(*) as jobs,
  avg(w) as avg_ms,
  percentile_cont(0.5) within group (order by w) as p50_ms,
  percentile_cont(0.95) within group (order by w) as p95_ms,
  max(w) as max_ms`;
type QueueRow = { key: string | null; jobs: string; avg_ms: string | null; p50_ms: string | null; p95_ms: string | null; max_ms: string | null };
const queueWait = (r: QueueRow | undefined) => ({
  jobs: n(r?.jobs),
  avg_ms: r?.avg_ms == null ? null : Math.round(Number(r.avg_ms)),
  p50_ms: r?.p50_ms == null ? null : Math.round(Number(r.p50_ms)),
  p95_ms: r?.p95_ms == null ? null : Math.round(Number(r.p95_ms)),
  max_ms: r?.max_ms == null ? null : Math.round(Number(r.max_ms)),
});
const UTC_DAY = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD')`;

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
      const [wait] = await queueWaits(organizationId, p, null);
      const t = totals(row!);
      const byStatus = Object.fromEntries(JOB_STATUSES.map((s) => [s, n(jobs.find((j) => j.status === s)?.count)]));
      return {
        period: { from: p.from.toISOString(), to: p.to.toISOString() },
        requests: { total: t.requests, errors: t.errors, server_errors: t.server_errors, error_rate: t.error_rate },
        jobs: { total: Object.values(byStatus).reduce((a, b) => a + b, 0), by_status: byStatus, queue_wait: queueWait(wait) },
        steps: t.steps,
        bytes_uploaded: n(row!.bytes_uploaded),
        bytes_downloaded: n(row!.bytes_downloaded),
        bytes_processed: n(row!.bytes_processed),
        bytes_produced: n(row!.bytes_produced),
        bandwidth: t.bandwidth,
        ai_tokens: t.ai_tokens,
        processing_time_ms: t.processing_time_ms,
        credits: t.credits,
        storage: { used_bytes: n(storage?.used), files: n(storage?.files) },
        daily: await daily(organizationId, p),
      };
    },

    async detailed(organizationId: string, p: Period, groupBy: UsageGroupBy) {
      const key = {
        day: UTC_DAY('"timestamp"'),
        action: 'action_id',
        api_key: 'api_key_id::text',
        // The route template (`/api/v1/jobs/:id`), not the path: ids do not make groups.
        endpoint: `http_method || ' ' || endpoint`,
      }[groupBy];
      const only = groupBy === 'action' ? `and action_type = 'PROCESS'` : groupBy === 'endpoint' ? `and action_type <> 'PROCESS'` : '';
      const rows = await orm.em.fork().execute<(TotalsRow & { key: string | null })[]>(
        `select ${key} as key, ${TOTALS} from ${T}
          where organization_id = ? and "timestamp" >= ? and "timestamp" < ? ${only}
          group by 1 order by 1 nulls first`,
        [organizationId, p.from, p.to],
      );
      // Jobs by the day they were created, their action or the key that submitted them; requests to an endpoint have no queue.
      const waits = groupBy === 'endpoint' ? [] : await queueWaits(organizationId, p, { day: UTC_DAY('j.created_at'), action: 'j.action_id', api_key: 'j.api_key_id::text' }[groupBy]);
      const byKey = new Map(waits.map((w) => [w.key, w]));
      const keys = [...new Set([...rows.map((r) => r.key), ...waits.map((w) => w.key)])].sort((a, b) => (a === null ? -1 : b === null ? 1 : a < b ? -1 : a > b ? 1 : 0));
      const byRow = new Map(rows.map((r) => [r.key, r]));
      return {
        period: { from: p.from.toISOString(), to: p.to.toISOString() },
        group_by: groupBy,
        groups: keys.map((k) => ({
          key: k,
          ...totals(byRow.get(k) ?? EMPTY),
          queue_wait: groupBy === 'endpoint' ? null : queueWait(byKey.get(k)),
        })),
      };
    },
  };

  /** Queue-wait statistics of the jobs created in the period, grouped by `groupKey` (null: all of them). */
  async function queueWaits(organizationId: string, p: Period, groupKey: string | null): Promise<QueueRow[]> {
    return orm.em.fork().execute<QueueRow[]>(
      `select ${groupKey ?? 'null'} as key, ${QUEUE_STATS}
         from (select j.*, ${QUEUE_WAIT} as w from ${ProcessingJobSchema.meta.tableName} j
                where j.organization_id = ? and j.created_at >= ? and j.created_at < ?
                  and j.started_at is not null and j.started_at >= coalesce(j.queued_at, j.created_at)) j
        group by 1`,
      [organizationId, p.from, p.to],
    );
  }

  /** Every UTC day of the period, with zeros for the quiet ones: requests, errors, bandwidth, jobs and their queue wait. */
  async function daily(organizationId: string, p: Period) {
    const em = orm.em.fork();
    const rows = await em.execute<(TotalsRow & { key: string })[]>(
      `select ${UTC_DAY('"timestamp"')} as key, ${TOTALS} from ${T}
        where organization_id = ? and "timestamp" >= ? and "timestamp" < ? group by 1`,
      [organizationId, p.from, p.to],
    );
    const jobs = await em.execute<{ key: string; n: string }[]>(
      `select ${UTC_DAY('created_at')} as key, count(*) as n from ${ProcessingJobSchema.meta.tableName}
        where organization_id = ? and created_at >= ? and created_at < ? group by 1`,
      [organizationId, p.from, p.to],
    );
    const waits = new Map((await queueWaits(organizationId, p, UTC_DAY('j.created_at'))).map((w) => [w.key, w]));
    const byDay = new Map(rows.map((r) => [r.key, r]));
    const created = new Map(jobs.map((j) => [j.key, n(j.n)]));
    const days: string[] = [];
    const last = new Date(p.to.getTime() - 1);
    for (let d = Date.UTC(p.from.getUTCFullYear(), p.from.getUTCMonth(), p.from.getUTCDate()); d <= last.getTime() && days.length < MAX_DAYS; d += 86_400_000) {
      days.push(new Date(d).toISOString().slice(0, 10));
    }
    return days.map((date) => {
      const t = totals(byDay.get(date) ?? EMPTY);
      const w = queueWait(waits.get(date));
      return {
        date,
        requests: t.requests,
        errors: t.errors,
        error_rate: t.error_rate,
        bandwidth: t.bandwidth,
        steps: t.steps,
        credits: t.credits,
        jobs: created.get(date) ?? 0,
        queue_wait_avg_ms: w.avg_ms,
        queue_wait_p95_ms: w.p95_ms,
      };
    });
  }
}

/** A series longer than this (a period of years) is cut at its start's first MAX_DAYS days. */
const MAX_DAYS = 366;
const EMPTY = Object.fromEntries(
  ['requests', 'errors', 'server_errors', 'steps', 'bytes_in', 'bytes_out', 'request_bytes_in', 'request_bytes_out', 'ai_tokens', 'processing_time_ms', 'credits'].map((k) => [k, '0']),
) as TotalsRow;

export type UsageService = ReturnType<typeof createUsageService>;
