import { IdempotencyKeySchema, JobStepSchema, MediaFileSchema, ProcessingJobSchema } from '#entities/index.js';
import { removeMediaObjects } from '#lib/media-objects.js';
import { deleteEndedJobs } from '#domain/job-deletion.js';
import type { ActivityDeps } from './deps.js';

export interface SweepResult {
  /** Expired files whose objects were removed in this batch. */
  removed: number;
  /** Whether expired files may remain (the batch was full). */
  more: boolean;
}

/**
 * The retention sweep's activities. Expired media (uploads and job results) lose their stored
 * objects; their rows are deleted, except those a job or a job step refers to, which are marked
 * `deleted` so the job keeps its history. Rows are locked with SKIP LOCKED so overlapping sweeps
 * share the work.
 */
export function createRetentionActivities(deps: Pick<ActivityDeps, 'orm' | 'storage' | 'clock' | 'logger' | 'retentionDays'>) {
  const media = MediaFileSchema.meta.tableName;
  const jobs = ProcessingJobSchema.meta.tableName;
  const steps = JobStepSchema.meta.tableName;
  return {
    async sweepExpiredMedia(batchSize: number): Promise<SweepResult> {
      return deps.orm.em.fork().transactional(async (em) => {
        const rows = await em.execute<{ id: string; storage_path: string; thumbnail_path: string | null; referenced: boolean }[]>(
          `select m.id, m.storage_path, m.thumbnail_path,
                  (exists (select 1 from ${jobs} j where j.input_media_id = m.id or j.result_media_id = m.id)
                   or exists (select 1 from ${steps} s where s.result_media_id = m.id)) as referenced
             from ${media} m
            where m.expires_at <= ? and m.status <> 'deleted'
            order by m.expires_at
            limit ? for update of m skip locked`,
          [deps.clock.now(), batchSize],
        );
        for (const r of rows) await removeMediaObjects(deps.storage, { storagePath: r.storage_path, thumbnailPath: r.thumbnail_path });
        const referenced = rows.filter((r) => r.referenced).map((r) => r.id);
        const unreferenced = rows.filter((r) => !r.referenced).map((r) => r.id);
        if (referenced.length) await em.nativeUpdate(MediaFileSchema, { id: { $in: referenced } }, { status: 'deleted', thumbnailPath: null });
        if (unreferenced.length) await em.nativeDelete(MediaFileSchema, { id: { $in: unreferenced } });
        if (rows.length) deps.logger.info({ removed: rows.length }, 'retention: expired media removed');
        return { removed: rows.length, more: rows.length === batchSize };
      });
    },

    /**
     * Ended jobs past their retention (their organization's, fixed at submission; the server default
     * from creation for jobs recorded without one) are deleted with their steps, results, artifacts,
     * transcripts and events (domain/job-deletion.ts). A job still running is left until it ends.
     */
    async sweepExpiredJobs(batchSize: number): Promise<SweepResult> {
      const em = deps.orm.em.fork();
      const now = deps.clock.now();
      const fallback = new Date(now.getTime() - deps.retentionDays * 86_400_000);
      const rows = await em.execute<{ id: string }[]>(
        `select id from ${jobs}
          where status in ('completed', 'failed', 'cancelled')
            and (expires_at <= ? or (expires_at is null and created_at <= ?))
          order by coalesce(expires_at, created_at)
          limit ?`,
        [now, fallback, batchSize],
      );
      const deleted = await deleteEndedJobs(em, deps.storage, rows.map((r) => r.id));
      if (deleted.length) deps.logger.info({ removed: deleted.length }, 'retention: expired jobs deleted');
      return { removed: deleted.length, more: rows.length === batchSize };
    },

    /**
     * Idempotency keys are kept 24 hours; rate-limit counters (rate-limiter-flexible's rows) whose
     * window ended over an hour ago are only clutter. The limiter's own timed clean-up is off: a
     * timer per limiter in every API process would outlive the process's database pool.
     */
    async sweepExpiredKeys(): Promise<number> {
      const em = deps.orm.em.fork();
      const now = deps.clock.now();
      const keys = await em.nativeDelete(IdempotencyKeySchema, { expiresAt: { $lte: now } });
      const counters = await em.getConnection().execute<{ affectedRows?: number }>('delete from rate_limits where expire < ?', [now.getTime() - 3_600_000], 'run');
      return keys + Number((counters as { affectedRows?: number }).affectedRows ?? 0);
    },
  };
}

export type RetentionActivities = ReturnType<typeof createRetentionActivities>;
