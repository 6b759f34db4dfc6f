import type { Config, RouteClass } from '../../lib/config.js';

export const ROUTE_CLASSES: readonly RouteClass[] = ['auth', 'upload', 'jobs', 'read', 'write'];

export interface Quotas {
  max_users: number;
  max_api_keys: number;
  storage_gb: number;
  requests_per_day: number;
  max_file_size_mb: number;
  /** `retention_hours / 24`, rounded up. */
  retention_days: number;
  /** How long uploads, jobs and their results are kept (never 0). */
  retention_hours: number;
  concurrent_jobs: number;
}

const nonNegativeInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
const positiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;

/** The platform's retention for organizations that do not set their own, in hours. */
export const defaultRetentionHours = (config: Config): number =>
  config.organizationDefaults.retentionHours || config.organizationDefaults.retentionDays * 24;

/**
 * An organization's quotas: `settings.quotas` (written by operators, never through the API)
 * over the configured defaults. 0 means unlimited. Retention is in hours (`retention_hours`,
 * else `retention_days` × 24).
 */
export function quotasOf(settings: Record<string, unknown>, config: Config): Quotas {
  const d = config.organizationDefaults;
  const own = (settings.quotas ?? {}) as Record<string, unknown>;
  const pick = (name: keyof Quotas, fallback: number) => (nonNegativeInt(own[name]) ? own[name] : fallback);
  const retentionHours = positiveInt(own.retention_hours)
    ? own.retention_hours
    : positiveInt(own.retention_days)
      ? own.retention_days * 24
      : defaultRetentionHours(config);
  return {
    max_users: pick('max_users', d.maxUsers),
    max_api_keys: pick('max_api_keys', d.maxApiKeys),
    storage_gb: pick('storage_gb', d.storageGb),
    requests_per_day: pick('requests_per_day', d.requestsPerDay),
    max_file_size_mb: pick('max_file_size_mb', d.maxFileSizeMb),
    retention_days: Math.ceil(retentionHours / 24),
    retention_hours: retentionHours,
    concurrent_jobs: pick('concurrent_jobs', d.concurrentJobs),
  };
}

/** Requests per minute per route class: `settings.rate_limits` over the configured defaults. */
export function rateLimitsOf(settings: Record<string, unknown>, config: Config): Record<RouteClass, number> {
  const own = (settings.rate_limits ?? {}) as Record<string, unknown>;
  const out = { ...config.rateLimits.perMinute };
  for (const c of ROUTE_CLASSES) if (Number.isInteger(own[c]) && (own[c] as number) > 0) out[c] = own[c] as number;
  return out;
}

/** A key's own `requests_per_minute` caps every class (never raises one). */
export function capLimits(limits: Record<RouteClass, number>, perMinute: number | undefined): Record<RouteClass, number> {
  if (!perMinute) return limits;
  return Object.fromEntries(ROUTE_CLASSES.map((c) => [c, Math.min(limits[c], perMinute)])) as Record<RouteClass, number>;
}
