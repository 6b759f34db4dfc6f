import { VERSION } from '../../lib/version.js';
import type { ApiDeps } from '../deps.js';
import type { createHealthService } from './health-service.js';

const started = Date.now();
export const uptimeSeconds = (): number => Math.round((Date.now() - started) / 1000);

export function createSystemService(deps: ApiDeps, health: ReturnType<typeof createHealthService>) {
  const { config, actions, orm } = deps;
  return {
    async status(organizationId: string) {
      const [{ healthy, checks }, rows] = await Promise.all([
        health.check(),
        orm.em
          .getConnection()
          .execute<{ status: string; n: string }[]>('select status, count(*) as n from processing_jobs where organization_id = ? group by status', [organizationId]),
      ]);
      return {
        status: healthy ? ('ok' as const) : ('degraded' as const),
        version: VERSION,
        uptime_seconds: uptimeSeconds(),
        components: checks,
        jobs: Object.fromEntries(rows.map((r) => [r.status, Number(r.n)])),
      };
    },

    /** Only values that are safe to show: no keys, passwords, credentials or connection strings. */
    config() {
      return {
        version: VERSION,
        environment: config.env,
        limits: {
          image: { max_file_size_bytes: config.media.image.maxFileSizeBytes, max_resolution: config.media.image.maxResolution },
          audio: { max_file_size_bytes: config.media.audio.maxFileSizeBytes },
          retention_days: config.media.retentionDays,
        },
        actions: { enabled: actions.list().map((a) => a.actionId) },
        temporal: { namespace: config.temporal.namespace, task_queue: config.temporal.taskQueue },
        storage: { bucket: config.s3.bucket },
      };
    },
  };
}
