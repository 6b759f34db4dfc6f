import { parseDuration, type EnvReader } from './reader.js';

export type RouteClass = 'auth' | 'upload' | 'jobs' | 'status' | 'download' | 'read' | 'write';
export const ROUTE_CLASS_NAMES: readonly RouteClass[] = ['auth', 'upload', 'jobs', 'status', 'download', 'read', 'write'];

/** A rate-limit policy: `limit` requests per `windowSeconds`. */
export interface RatePolicy {
  limit: number;
  windowSeconds: number;
}

export interface RateLimitConfig {
  /**
   * Each route class's policy (per API key, per user, or per IP when anonymous): RATE_LIMIT_<CLASS>
   * as `<requests>/<window>` (`10/1h`, `60/1m`), else RATE_LIMIT_<CLASS>_PER_MINUTE (`<requests>/1m`).
   */
  classes: Record<RouteClass, RatePolicy>;
  /** Failed logins allowed per IP and email within the window, then 429 until it ends. */
  loginFailures: number;
  loginFailureWindowSeconds: number;
  /**
   * Share of a limit (percent, RATE_LIMIT_LEASE_PERCENT; 0: a store round trip per request) that an
   * API instance takes from the shared counter at once and then hands out locally. Never admits
   * more than the limit; may refuse early by the leases other instances hold unused.
   */
  leasePercent: number;
}

export interface OrganizationDefaults {
  maxUsers: number;
  maxApiKeys: number;
  storageGb: number;
  requestsPerDay: number;
  maxFileSizeMb: number;
  retentionDays: number;
  /** ORG_RETENTION_HOURS, for retention shorter than a day: wins over retentionDays when set (0: retentionDays). */
  retentionHours: number;
  concurrentJobs: number;
}

/** Request usage rows are written in batches at most this often (USAGE_FLUSH_INTERVAL_MS) and at shutdown. */
export interface MeteringConfig {
  flushIntervalMs: number;
  maxBatch: number;
}

export interface ResourceConfig {
  /** Open Server-Sent Events streams (job and upload events) per API instance: per organization, and in all. */
  sse: { maxStreamsPerOrg: number; maxStreams: number };
  /** Chunked uploads: the largest chunk spooled to disk, and chunk PUTs of one upload received at once per instance. */
  chunks: { maxBytes: number; maxInFlightPerUpload: number };
  /** ffmpeg actions read at most the duration measured at upload plus this margin (an input header may lie). */
  audioDurationMarginSeconds: number;
  /** libvips (sharp) stops an image action's decode and encode after this long. */
  imageTimeoutSeconds: number;
}

export function readRateLimits(r: EnvReader): RateLimitConfig {
  // RATE_LIMIT_<CLASS>=<requests>/<window> (the window a duration, a bare number in seconds); unset:
  // the older RATE_LIMIT_<CLASS>_PER_MINUTE=<requests>.
  const policy = (name: string, perMinute: number): RatePolicy => {
    const variable = `RATE_LIMIT_${name}`;
    const raw = r.optional(variable);
    if (raw === undefined) return { limit: r.int(`${variable}_PER_MINUTE`, perMinute, { min: 1 }), windowSeconds: 60 };
    const m = /^(\d+)\/(.+)$/.exec(raw.trim());
    const windowMs = m ? parseDuration(m[2]!, 's') : undefined;
    if (!m || Number(m[1]) < 1 || windowMs === undefined || windowMs < 1000 || windowMs % 1000 !== 0) {
      r.problem(`${variable} must be <requests>/<window>, such as 10/1h or 60/1m (got "${raw}")`);
      return { limit: perMinute, windowSeconds: 60 };
    }
    return { limit: Number(m[1]), windowSeconds: windowMs / 1000 };
  };
  return {
    classes: {
      auth: policy('AUTH', 20),
      upload: policy('UPLOAD', 60),
      jobs: policy('JOBS', 120),
      // Job status reads (GET /jobs/{id}, its events, transcriptions) and downloads (media, results, artifacts, thumbnails).
      status: policy('STATUS', 600),
      download: policy('DOWNLOAD', 600),
      read: policy('READ', 600),
      write: policy('WRITE', 120),
    },
    loginFailures: r.int('LOGIN_MAX_FAILURES', 5, { min: 1 }),
    loginFailureWindowSeconds: r.duration('LOGIN_FAILURE_WINDOW', '15m', { unit: 's', min: '1s' }),
    leasePercent: r.int('RATE_LIMIT_LEASE_PERCENT', 2, { max: 10 }),
  };
}

/** Quotas of an organization whose settings.quotas do not say otherwise (0 = unlimited). */
export function readOrganizationDefaults(r: EnvReader, { retentionDays }: { retentionDays: number }): OrganizationDefaults {
  return {
    maxUsers: r.int('ORG_MAX_USERS', 0),
    maxApiKeys: r.int('ORG_MAX_API_KEYS', 0),
    storageGb: r.int('ORG_STORAGE_GB', 10),
    requestsPerDay: r.int('ORG_REQUESTS_PER_DAY', 10_000),
    // 0: only the per-media-type limits (MAX_IMAGE_FILE_SIZE_MB, MAX_AUDIO_FILE_SIZE_MB) apply.
    maxFileSizeMb: r.int('ORG_MAX_FILE_SIZE_MB', 0),
    // Unset: the platform's DEFAULT_RETENTION_DAYS.
    retentionDays: r.duration('ORG_RETENTION_DAYS', `${retentionDays}d`, { unit: 'd', min: '1d' }),
    retentionHours: r.duration('ORG_RETENTION_HOURS', '0', { unit: 'h' }),
    concurrentJobs: r.int('ORG_CONCURRENT_JOBS', 10),
  };
}

export function readMetering(r: EnvReader): MeteringConfig {
  return { flushIntervalMs: r.duration('USAGE_FLUSH_INTERVAL_MS', '1s', { unit: 'ms', min: '10ms', max: '60s' }), maxBatch: 1000 };
}

/** Bounds on what one client can make an API instance or a worker hold. */
export function readResources(r: EnvReader): ResourceConfig {
  const maxStreamsPerOrg = r.int('SSE_MAX_STREAMS_PER_ORG', 50, { min: 1, max: 100_000 });
  const maxStreams = r.int('SSE_MAX_STREAMS', 1000, { min: 1, max: 100_000 });
  if (maxStreamsPerOrg > maxStreams) r.problem('SSE_MAX_STREAMS_PER_ORG must not be above SSE_MAX_STREAMS');
  return {
    sse: { maxStreamsPerOrg, maxStreams },
    chunks: {
      // S3 needs parts of at least 5 MiB (but the last); 512 MiB bounds the disk one request may fill.
      maxBytes: r.size('CHUNK_MAX_SIZE_MB', '100', { unit: 'MiB', min: '5', max: '512' }),
      maxInFlightPerUpload: r.int('CHUNK_MAX_IN_FLIGHT_PER_UPLOAD', 4, { min: 1, max: 64 }),
    },
    audioDurationMarginSeconds: r.duration('AUDIO_DURATION_MARGIN_SECONDS', '5s', { unit: 's', max: '1h' }),
    imageTimeoutSeconds: r.duration('IMAGE_PROCESSING_TIMEOUT_SECONDS', '60s', { unit: 's', min: '1s', max: '1h' }),
  };
}
