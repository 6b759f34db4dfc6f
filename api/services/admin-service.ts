import { freemem, loadavg, totalmem } from 'node:os';
import type { ApiDeps } from '../deps.js';
import type { createHealthService } from './health-service.js';
import { uptimeSeconds } from './system-service.js';

const DAY_MS = 86_400_000;

/** Platform-wide figures for operators: they read across organizations on purpose. */
export function createAdminService(deps: ApiDeps, health: ReturnType<typeof createHealthService>) {
  const { orm, clock } = deps;
  const query = <T>(sql: string, params: unknown[] = []) => orm.em.getConnection().execute<T[]>(sql, params);

  return {
    async health() {
      const [{ healthy, checks }, [jobs]] = await Promise.all([
        health.check(),
        query<{ active: string; queued: string }>(
          "select count(*) filter (where status = 'processing') as active, count(*) filter (where status in ('pending', 'queued')) as queued from processing_jobs",
        ),
      ]);
      const rss = process.memoryUsage().rss;
      return {
        status: healthy ? ('healthy' as const) : ('degraded' as const),
        timestamp: clock.now().toISOString(),
        services: checks,
        metrics: {
          uptime_seconds: uptimeSeconds(),
          active_jobs: Number(jobs?.active ?? 0),
          queue_size: Number(jobs?.queued ?? 0),
          memory_rss_bytes: rss,
          memory_usage_percent: Math.round(((totalmem() - freemem()) / totalmem()) * 1000) / 10,
          load_average_1m: loadavg()[0] ?? 0,
        },
      };
    },

    async stats() {
      const now = clock.now().getTime();
      const dayAgo = new Date(now - DAY_MS);
      const [byStatus, [users], [orgs], [storage], [perf]] = await Promise.all([
        query<{ status: string; n: string }>('select status, count(*) as n from processing_jobs group by status'),
        query<{ total: string; active: string; recent: string }>(
          'select count(*) as total, count(*) filter (where last_login_at > ?) as active, count(*) filter (where created_at > ?) as recent from users',
          [dayAgo, new Date(now - 7 * DAY_MS)],
        ),
        query<{ n: string }>('select count(*) as n from organizations where deleted_at is null'),
        query<{ files: string; bytes: string | null }>("select count(*) as files, sum(file_size_bytes) as bytes from media_files where status <> 'deleted'"),
        query<{ avg_ms: string | null; completed: string; finished: string }>(
          "select avg(processing_time_ms) filter (where status = 'completed') as avg_ms, count(*) filter (where status = 'completed') as completed, count(*) filter (where status in ('completed', 'failed')) as finished from processing_jobs where completed_at > ?",
          [dayAgo],
        ),
      ]);
      const jobs = Object.fromEntries(byStatus.map((r) => [r.status, Number(r.n)]));
      const files = Number(storage?.files ?? 0);
      const bytes = Number(storage?.bytes ?? 0);
      const finished = Number(perf?.finished ?? 0);
      return {
        jobs: { total: Object.values(jobs).reduce((a, b) => a + b, 0), ...jobs },
        users: { total: Number(users?.total ?? 0), active_last_24h: Number(users?.active ?? 0), new_last_7d: Number(users?.recent ?? 0) },
        organizations: Number(orgs?.n ?? 0),
        storage: { total_files: files, total_bytes: bytes, average_file_bytes: files ? Math.round(bytes / files) : 0 },
        performance: {
          average_processing_ms: perf?.avg_ms == null ? null : Math.round(Number(perf.avg_ms)),
          success_rate: finished ? Math.round((Number(perf?.completed ?? 0) / finished) * 1000) / 1000 : null,
          throughput_per_hour: Math.round((finished / 24) * 100) / 100,
        },
      };
    },
  };
}
