import type { EntityManager } from '@mikro-orm/postgresql';
import { MediaFileSchema, MediaUploadSchema, OrganizationSchema, ProcessingJobSchema, UploadSessionSchema } from '#entities/index.js';
import type { JobAdmission } from '#domain/job-store.js';
import type { Config } from '#lib/config.js';
import { OPEN_JOB_STATUSES } from '#workflows/job-status.js';
import { LimitExceededError, NotFoundError, QuotaExceededError } from '#lib/errors.js';
import { quotasOf } from '../auth/limits.js';
import type { ApiDeps } from '../deps.js';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
/** A presigned upload may still be completed this long after its URL expired (see direct-upload-service). */
export const DIRECT_UPLOAD_COMPLETE_GRACE_MS = 3_600_000;

/**
 * The organization's settings, its row locked until the transaction ends. FOR NO KEY UPDATE:
 * serialises the organization's submitters (or uploaders) without blocking the foreign-key checks
 * of other writes. `placeholder` is `?` through the ORM, `$1` on a native connection.
 */
const lockedSettingsSql = (placeholder: '?' | '$1') =>
  `select settings from ${OrganizationSchema.meta.tableName} where id = ${placeholder} for no key update`;

/** The concurrent-jobs quota and retention of an organization's settings: 0 jobs means no quota to hold. */
export function jobQuotasOf(settings: Record<string, unknown> | null, config: Config): { concurrentJobs: number; retentionHours: number } {
  const q = quotasOf(settings ?? {}, config);
  return { concurrentJobs: q.concurrent_jobs, retentionHours: q.retention_hours };
}

/**
 * The organization's job quotas as they hold now, read under a lock on its row (FOR NO KEY UPDATE,
 * as holdJobSlot) in the submission's transaction; the job store counts the open jobs and records
 * the job in the statement after it (createQueued).
 */
export function lockJobQuotas(config: Config, organizationId: string): JobAdmission {
  return async (q) => {
    const [org] = await q<{ settings: Record<string, unknown> | null }>(lockedSettingsSql('$1'), [organizationId]);
    if (!org) throw new NotFoundError('Organization');
    return jobQuotasOf(org.settings, config);
  };
}

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
  // The settings are read again under the lock: the limit that holds is the current one.
  const [org] = await em.execute<{ settings: Record<string, unknown> | null }[]>(lockedSettingsSql('?'), [organizationId]);
  if (!org) throw new NotFoundError('Organization');
  const quotas = quotasOf(org.settings ?? {}, config);
  const limit = quotas.concurrent_jobs;
  const admitted = { retentionHours: quotas.retention_hours };
  if (limit === 0) return admitted;
  const [row] = await em.execute<{ n: string }[]>(
    `select count(*) as n from ${ProcessingJobSchema.meta.tableName} where organization_id = ? and status in (${OPEN_JOB_STATUSES.map(() => '?').join(', ')})`,
    [organizationId, ...OPEN_JOB_STATUSES],
  );
  if (Number(row?.n ?? 0) >= limit) throw new QuotaExceededError('concurrent_jobs', limit, 5);
  return admitted;
}

/**
 * Bytes the organization holds or has been promised: its stored media, plus every upload that
 * was started and not yet completed, failed or expired (presigned, tus, chunked and followed
 * multipart ones, each at its declared size; a tus upload of deferred length at `openEndedBytes`,
 * the most it may grow to; a followed multipart upload without Content-Length at what arrived). A finishing upload may be counted twice for a moment, never zero times.
 */
async function committedBytes(em: EntityManager, organizationId: string, openEndedBytes: number, now: Date): Promise<number> {
  const [row] = await em.execute<{ total: string | null }[]>(
    `select
       (select coalesce(sum(file_size_bytes), 0) from ${MediaFileSchema.meta.tableName} where organization_id = ? and status <> 'deleted')
     + (select coalesce(sum(size_bytes), 0) from ${MediaUploadSchema.meta.tableName}
         where organization_id = ? and status in ('pending', 'completing') and expires_at > ?)
     + (select coalesce(sum(case when kind = 'multipart' then coalesce(total_bytes, bytes_received) else coalesce(total_bytes, ?) end), 0)
         from ${UploadSessionSchema.meta.tableName}
         where organization_id = ? and status in ('receiving', 'finalizing') and expires_at > ?) as total`,
    [organizationId, organizationId, new Date(now.getTime() - DIRECT_UPLOAD_COMPLETE_GRACE_MS), openEndedBytes, organizationId, now],
  );
  return Number(row?.total ?? 0);
}

/**
 * The storage quota, enforced where an upload is started: like holdJobSlot, inside the caller's
 * transaction, under a lock on the organization row, the bytes already committed are summed and
 * `bytes` more refused when they would go past `storage_gb`. The caller records its pending upload
 * in the same transaction, so parallel starts cannot together exceed the quota.
 */
export async function reserveStorage(
  em: EntityManager,
  config: Config,
  organizationId: string,
  reserve: { bytes: number; openEndedBytes: number; now: Date },
): Promise<void> {
  const [org] = await em.execute<{ settings: Record<string, unknown> | null }[]>(lockedSettingsSql('?'), [organizationId]);
  if (!org) throw new NotFoundError('Organization');
  const limitGb = quotasOf(org.settings ?? {}, config).storage_gb;
  if (limitGb === 0) return;
  const limit = limitGb * GIB;
  const used = await committedBytes(em, organizationId, reserve.openEndedBytes, reserve.now);
  // A size not known in advance (a plain multipart upload) is refused only once the quota is reached.
  if (used >= limit || used + reserve.bytes > limit) {
    throw new LimitExceededError('storage_gb', limitGb, { used_bytes: used, requested_bytes: reserve.bytes, available_bytes: Math.max(0, limit - used) });
  }
}

/** The organization quotas checked before work starts (0 = unlimited). */
export function createQuotaService(deps: ApiDeps) {
  const { orm, config, clock } = deps;
  const quotas = async (organizationId: string) => quotasOf((await orm.em.fork().findOneOrFail(OrganizationSchema, organizationId)).settings, config);
  const limitsOf = (q: Awaited<ReturnType<typeof quotas>>): UploadLimits => ({
    maxFileSizeBytes: q.max_file_size_mb > 0 ? q.max_file_size_mb * MIB : undefined,
    // In days, fractional when the organization keeps things for hours.
    retentionDays: q.retention_hours / 24,
  });

  return {
    /** The per-organization file size cap and retention for an upload (no storage check: see reserve). */
    async limits(organizationId: string): Promise<UploadLimits> {
      return limitsOf(await quotas(organizationId));
    },

    /**
     * Before an upload whose size is not recorded in advance (a plain multipart one, a URL
     * import): refused when the organization's committed bytes (stored and pending) plus
     * `bytes` (its Content-Length, when known) go past `storage_gb`.
     */
    async forUpload(organizationId: string, bytes = 0): Promise<UploadLimits> {
      await orm.em.fork().transactional((em) => reserveStorage(em, config, organizationId, { bytes, openEndedBytes: 0, now: clock.now() }));
      return limitsOf(await quotas(organizationId));
    },

    /**
     * Runs `record` (which inserts the pending upload) in one transaction with the storage check
     * for its `bytes`, so the reservation is atomic (see reserveStorage).
     */
    reserve<T>(organizationId: string, bytes: number, openEndedBytes: number, record: (em: EntityManager) => Promise<T>): Promise<T> {
      return orm.em.fork().transactional(async (em) => {
        await reserveStorage(em, config, organizationId, { bytes, openEndedBytes, now: clock.now() });
        return record(em);
      });
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

export interface UploadLimits {
  maxFileSizeBytes?: number;
  retentionDays: number;
}

export type QuotaService = ReturnType<typeof createQuotaService>;
