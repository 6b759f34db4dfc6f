import { OPEN_JOB_STATUSES } from '#workflows/job-status.js';
import type { ApiDeps } from '../deps.js';

// The open statuses as an SQL list (fixed identifiers, not input).
const OPEN_SQL = OPEN_JOB_STATUSES.map((st) => `'${st}'`).join(', ');

/** Gauges read from the database at scrape time, so every API instance reports the same truth. */
export function createMetricsService(deps: ApiDeps) {
  const { metrics, orm } = deps;
  return {
    async render(): Promise<{ contentType: string; body: string }> {
      const conn = orm.em.getConnection();
      const [queue, storage, connections] = await Promise.all([
        conn.execute<{ status: string; n: string }[]>(
          `select status, count(*) as n from processing_jobs where status in (${OPEN_SQL}) group by status`,
        ),
        conn.execute<{ bytes: string | null }[]>("select sum(file_size_bytes) as bytes from media_files where status <> 'deleted'"),
        conn.execute<{ state: string | null; n: string }[]>(
          'select state, count(*) as n from pg_stat_activity where datname = current_database() group by state',
        ),
      ]);
      metrics.queueSize.reset();
      for (const status of OPEN_JOB_STATUSES) {
        metrics.queueSize.set({ status }, Number(queue.find((r) => r.status === status)?.n ?? 0));
      }
      metrics.storageBytes.set(Number(storage[0]?.bytes ?? 0));
      metrics.dbConnections.reset();
      for (const row of connections) metrics.dbConnections.set({ state: row.state ?? 'unknown' }, Number(row.n));
      return { contentType: metrics.registry.contentType, body: await metrics.registry.metrics() };
    },
  };
}
