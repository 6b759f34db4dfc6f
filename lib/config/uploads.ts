import type { EnvReader } from './reader.js';

/** Resumable uploads (tus, chunked): see api/services/uploads/. */
export interface UploadsConfig {
  /** Largest declared size accepted (UPLOAD_MAX_SIZE_MB; 0: the largest media type limit, which still applies once the type is known). */
  maxBytes: number;
  /** Incomplete uploads expire this long after creation, and their parts are removed. */
  expiryMs: number;
  /** How often the API removes expired uploads (0: never; run cleanUpExpiredUploads elsewhere). */
  cleanupIntervalMs: number;
}

/** Direct (presigned) uploads, URL imports, and signed download links. */
export interface IntakeConfig {
  /** Where clients reach the object store for presigned uploads (S3_PUBLIC_ENDPOINT, default S3_ENDPOINT). */
  s3PublicEndpoint: URL;
  /** How long a presigned upload URL stays valid. */
  presignExpirySeconds: number;
  /** URL imports: byte and time limits, redirects followed, CIDRs exempt from the private-address deny list. */
  importMaxBytes: number;
  importTimeoutMs: number;
  importMaxRedirects: number;
  importAllowedCidrs: string[];
  /** HMAC keys of signed download links (DOWNLOAD_LINK_SECRETS): the first signs, all verify, so keys rotate; none in production when unset. */
  downloadLinkSecrets: string[];
  downloadLinkMaxTtlSeconds: number;
}

export function readUploads(r: EnvReader): UploadsConfig {
  return {
    maxBytes: r.size('UPLOAD_MAX_SIZE_MB', '0', { unit: 'MiB' }),
    expiryMs: r.duration('UPLOAD_EXPIRY_HOURS', '24h', { unit: 'h', as: 'ms', min: '1h', max: '30d' }),
    cleanupIntervalMs: r.duration('UPLOAD_CLEANUP_INTERVAL_SECONDS', '10m', { unit: 's', as: 'ms' }),
  };
}

export function readIntake(r: EnvReader, shared: { production: boolean; s3Endpoint: URL; largestMediaBytes: number }): IntakeConfig {
  return {
    // Unset: the internal endpoint (whose own problems S3_ENDPOINT reports).
    s3PublicEndpoint: r.url('S3_PUBLIC_ENDPOINT') ?? new URL(shared.s3Endpoint.href),
    presignExpirySeconds: r.duration('PRESIGN_EXPIRY_SECONDS', '15m', { unit: 's', min: '60s', max: '7d' }),
    importMaxBytes: r.size('IMPORT_MAX_BYTES', `${shared.largestMediaBytes}`, { unit: 'B', min: '1' }),
    importTimeoutMs: r.duration('IMPORT_TIMEOUT_MS', '5m', { unit: 'ms', min: '1s' }),
    importMaxRedirects: r.int('IMPORT_MAX_REDIRECTS', 5, { max: 20 }),
    importAllowedCidrs: r.cidrList('IMPORT_ALLOWED_CIDRS'),
    downloadLinkSecrets: r.secretList('DOWNLOAD_LINK_SECRETS', { production: shared.production, minBytes: 32 }),
    downloadLinkMaxTtlSeconds: r.duration('DOWNLOAD_LINK_MAX_TTL_SECONDS', '7d', { unit: 's', min: '60s' }),
  };
}
