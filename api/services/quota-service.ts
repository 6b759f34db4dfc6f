import { MediaFileSchema, OrganizationSchema, ProcessingJobSchema } from '../../entities/index.js';
import { LimitExceededError, QuotaExceededError } from '../../lib/errors.js';
import { quotasOf } from '../auth/limits.js';
import type { ApiDeps } from '../deps.js';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

/** The organization quotas checked before work starts (0 = unlimited). */
export function createQuotaService(deps: ApiDeps) {
  const { orm, config } = deps;
  const quotas = async (organizationId: string) => quotasOf((await orm.em.fork().findOneOrFail(OrganizationSchema, organizationId)).settings, config);

  return {
    /**
     * Before an upload: refused when the organization's stored bytes already reach `storage_gb`
     * (one upload may go past it; the next is refused). Returns the per-organization file size
     * cap and retention for the upload.
     */
    async forUpload(organizationId: string): Promise<{ maxFileSizeBytes?: number; retentionDays: number }> {
      const q = await quotas(organizationId);
      if (q.storage_gb > 0) {
        const [row] = await orm.em
          .fork()
          .execute<{ total: string | null }[]>(
            `select coalesce(sum(file_size_bytes), 0) as total from ${MediaFileSchema.meta.tableName} where organization_id = ? and status <> 'deleted'`,
            [organizationId],
          );
        if (Number(row?.total ?? 0) >= q.storage_gb * GIB) throw new LimitExceededError('storage_gb', q.storage_gb);
      }
      return { maxFileSizeBytes: q.max_file_size_mb > 0 ? q.max_file_size_mb * MIB : undefined, retentionDays: q.retention_days };
    },

    /** Before a job submission: at most `concurrent_jobs` unfinished jobs per organization. */
    async assertCanSubmitJob(organizationId: string): Promise<void> {
      const q = await quotas(organizationId);
      if (q.concurrent_jobs === 0) return;
      const running = await orm.em.fork().count(ProcessingJobSchema, { organization: organizationId, status: { $in: ['pending', 'queued', 'processing'] } });
      if (running >= q.concurrent_jobs) throw new QuotaExceededError('concurrent_jobs', q.concurrent_jobs, 5);
    },
  };
}

export type QuotaService = ReturnType<typeof createQuotaService>;
