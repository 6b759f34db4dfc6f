import type { EntityManager } from '@mikro-orm/postgresql';
import { MediaFileSchema, OrganizationSchema, ProcessingJobSchema } from '../../entities/index.js';
import type { Config } from '../../lib/config.js';
import { LimitExceededError, NotFoundError, QuotaExceededError } from '../../lib/errors.js';
import { quotasOf } from '../auth/limits.js';
import type { ApiDeps } from '../deps.js';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
const UNFINISHED = ['pending', 'queued', 'processing'];

/**
 * The concurrent-jobs quota, enforced where a job is recorded or put back in the queue: inside the
 * caller's transaction, the organization row is locked when the quota applies (so concurrent submissions of one organization
 * take turns) and its unfinished jobs counted. The caller inserts or requeues its job in the same
 * transaction; the lock is held until it commits, so no two callers can both take the last slot.
 */
export async function holdJobSlot(em: EntityManager, config: Config, organizationId: string): Promise<{ retentionHours: number }> {
  const table = OrganizationSchema.meta.tableName;
  // An organization without the quota takes no lock: its submissions do not wait for each other.
  const [seen] = await em.execute<{ settings: Record<string, unknown> | null }[]>(`select settings from ${table} where id = ?`, [organizationId]);
  if (!seen) throw new NotFoundError('Organization');
  const seenQuotas = quotasOf(seen.settings ?? {}, config);
  if (seenQuotas.concurrent_jobs === 0) return { retentionHours: seenQuotas.retention_hours };
  // FOR NO KEY UPDATE: serialises the submitters without blocking the foreign-key checks of other
  // writes. The settings are read again under the lock: the limit that holds is the current one.
  const [org] = await em.execute<{ settings: Record<string, unknown> | null }[]>(`select settings from ${table} where id = ? for no key update`, [organizationId]);
  if (!org) throw new NotFoundError('Organization');
  const quotas = quotasOf(org.settings ?? {}, config);
  const limit = quotas.concurrent_jobs;
  const admitted = { retentionHours: quotas.retention_hours };
  if (limit === 0) return admitted;
  const [row] = await em.execute<{ n: string }[]>(
    `select count(*) as n from ${ProcessingJobSchema.meta.tableName} where organization_id = ? and status in (${UNFINISHED.map(() => '?').join(', ')})`,
    [organizationId, ...UNFINISHED],
  );
  if (Number(row?.n ?? 0) >= limit) throw new QuotaExceededError('concurrent_jobs', limit, 5);
  return admitted;
}

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
      // In days, fractional when the organization keeps things for hours.
      return { maxFileSizeBytes: q.max_file_size_mb > 0 ? q.max_file_size_mb * MIB : undefined, retentionDays: q.retention_hours / 24 };
    },

    /**
     * An early refusal for requests that create a job later (a URL import): at most `concurrent_jobs`
     * unfinished jobs per organization. Only advisory: the job itself is admitted by holdJobSlot.
     */
    async assertCanSubmitJob(organizationId: string): Promise<void> {
      await orm.em.fork().transactional(async (em) => void (await holdJobSlot(em, config, organizationId)));
    },
  };
}

export type QuotaService = ReturnType<typeof createQuotaService>;
