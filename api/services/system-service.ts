import { VERSION } from '#lib/version.js';
import type { ApiDeps } from '../deps.js';
import type { createHealthService } from './health-service.js';
import { FORMATS } from '#domain/media/media-types.js';

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

    /** What uploads accept, from the table the upload check reads. */
    supportedFormats() {
      const list = (mediaType: 'image' | 'audio') =>
        FORMATS.filter((f) => f.mediaType === mediaType).map((f) => ({
          format: f.format,
          mime_type: f.mimeType,
          extensions: f.detectedAs,
          ...(f.note ? { note: f.note } : {}),
        }));
      const mb = (bytes: number) => Math.round((bytes / 1048576) * 100) / 100;
      return {
        image: { formats: list('image'), max_file_size_mb: mb(config.media.image.maxFileSizeBytes), max_resolution: config.media.image.maxResolution },
        audio: { formats: list('audio'), max_file_size_mb: mb(config.media.audio.maxFileSizeBytes), max_duration_minutes: config.media.audio.maxDurationMinutes },
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
