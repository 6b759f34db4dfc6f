import type { EnvReader } from './reader.js';

export interface AuthConfig {
  /** HS256 key (>= 32 bytes). */
  jwtSecret: string;
  jwtIssuer: string;
  jwtAudience: string;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  invitationTtlSeconds: number;
  /** argon2id parameters; never below OWASP's minimum (m=19456 KiB, t=2, p=1). */
  argon2: { memoryKib: number; timeCost: number; parallelism: number };
  /** last_used_at of an API key is written at most this often. */
  apiKeyLastUsedResolutionMs: number;
  /**
   * How long an API instance reuses a resolved API key or session (AUTH_CACHE_TTL_MS, 0: never).
   * Revocations, role changes and removals reach every instance at once through Postgres
   * LISTEN/NOTIFY; the TTL only bounds how stale an entry can be if a notification were missed.
   */
  credentialCacheMs: number;
  /**
   * User ids of platform operators besides those flagged in the database (PLATFORM_ADMIN_USER_IDS,
   * for deployments configured as code): they may call /admin/* and the payload codec with a bearer
   * token. Ids, never emails: an address proves nothing about who registered it.
   */
  platformAdminUserIds: string[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function readAuth(r: EnvReader, { production }: { production: boolean }): AuthConfig {
  if (r.raw('PLATFORM_ADMIN_EMAILS')) {
    r.problem('PLATFORM_ADMIN_EMAILS is removed: grant platform administration with `npm run admin:grant -- <email or user id>`, or list user ids in PLATFORM_ADMIN_USER_IDS');
  }
  const ttl = { unit: 's', min: '1s' } as const;
  return {
    // Empty in production when unset: only the API needs it, and it refuses to start without it
    // (see createAccessTokens); the worker and migrations run without.
    jwtSecret: r.secret('JWT_SECRET', { production, minBytes: 32 }),
    jwtIssuer: r.string('JWT_ISSUER', 'mediaflow'),
    jwtAudience: r.string('JWT_AUDIENCE', 'mediaflow-api'),
    accessTtlSeconds: r.duration('JWT_ACCESS_TTL', '15m', ttl),
    refreshTtlSeconds: r.duration('JWT_REFRESH_TTL', '7d', ttl),
    invitationTtlSeconds: r.duration('INVITATION_TTL', '7d', ttl),
    argon2: {
      memoryKib: r.int('ARGON2_MEMORY_KIB', 19_456, { min: 19_456, max: 4_194_304 }),
      timeCost: r.int('ARGON2_TIME_COST', 2, { min: 2, max: 100 }),
      parallelism: r.int('ARGON2_PARALLELISM', 1, { min: 1, max: 64 }),
    },
    apiKeyLastUsedResolutionMs: r.duration('API_KEY_LAST_USED_RESOLUTION', '5m', { ...ttl, as: 'ms' }),
    credentialCacheMs: r.duration('AUTH_CACHE_TTL_MS', '5s', { unit: 'ms', max: '60s' }),
    platformAdminUserIds: r.list('PLATFORM_ADMIN_USER_IDS', [], (entry) => {
      const id = entry.toLowerCase();
      return UUID.test(id) ? { value: id } : { problem: 'user ids (UUIDs), not emails or names' };
    }),
  };
}
