import { ROUTE_CLASS_NAMES, type Config, type RatePolicy, type RouteClass } from '#lib/config.js';

export const ROUTE_CLASSES: readonly RouteClass[] = ROUTE_CLASS_NAMES;

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
 * The platform's quotas for an organization: `settings.quotas` (written by operators, never
 * through the API) over the configured defaults. 0 means unlimited. Retention is in hours
 * (`retention_hours`, else `retention_days` × 24). They bound what the owner may set.
 */
export function platformQuotasOf(settings: Record<string, unknown>, config: Config): Quotas {
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

/** The quotas an organization's owner may set (`settings.owner_quotas`), within the platform's. */
export const OWNER_QUOTAS = ['storage_gb', 'requests_per_day', 'concurrent_jobs', 'max_file_size_mb', 'retention_hours'] as const;
export type OwnerQuota = (typeof OWNER_QUOTAS)[number];

/** Why an owner's value is outside the platform's bound, or undefined when it is within. */
export function outOfBounds(name: OwnerQuota, value: number, bound: number): string | undefined {
  if (!positiveInt(value)) return 'must be a positive integer';
  // 0 is unlimited: any value is within it.
  if (bound > 0 && value > bound) return `must be at most ${bound}, the platform's limit for this organization`;
  return undefined;
}

/** The quotas that apply: the owner's (`settings.owner_quotas`) where set and still within the platform's, else the platform's. */
export function quotasOf(settings: Record<string, unknown>, config: Config): Quotas {
  const platform = platformQuotasOf(settings, config);
  const owner = (settings.owner_quotas ?? {}) as Record<string, unknown>;
  const out = { ...platform };
  for (const name of OWNER_QUOTAS) {
    const v = owner[name];
    // A bound lowered by an operator since caps what the owner set.
    if (positiveInt(v)) out[name] = platform[name] > 0 ? Math.min(v, platform[name]) : v;
  }
  out.retention_days = Math.ceil(out.retention_hours / 24);
  return out;
}

/** Each route class's policy: `settings.rate_limits` (requests in the class's window) over the configured ones. */
export function rateLimitsOf(settings: Record<string, unknown>, config: Config): Record<RouteClass, RatePolicy> {
  const own = (settings.rate_limits ?? {}) as Record<string, unknown>;
  const out = { ...config.rateLimits.classes };
  for (const c of ROUTE_CLASSES) if (positiveInt(own[c])) out[c] = { ...out[c], limit: own[c] };
  return out;
}
