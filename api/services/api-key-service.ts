import type { EntityManager } from '@mikro-orm/postgresql';
import { ApiKeySchema, OrganizationSchema, type ApiKey } from '#entities/index.js';
import { ConflictError, ForbiddenError, InvalidApiKeyError, LimitExceededError, NotFoundError, ValidationError } from '#lib/errors.js';
import { checkApiKeyFormat, digestsEqual, generateApiKey, sha256Hex } from '#lib/tokens.js';
import { quotasOf, rateLimitsOf } from '../auth/limits.js';
import { can, type Principal } from '../auth/principal.js';
import { keyPermissions, outranks, type Scope } from '../auth/permissions.js';
import type { ApiDeps } from '../deps.js';
import type { CredentialCache } from './credential-cache.js';

export interface KeyInput {
  name?: string;
  permissions?: Scope[];
  expiresAt?: Date | null;
  /** The key's own limits; on update, they replace the key's (an empty object removes them). */
  rateLimits?: { requests_per_minute?: number; daily_quota?: number };
}

const keyLimits = (l: KeyInput['rateLimits']) => ({
  ...(l?.requests_per_minute ? { requests_per_minute: l.requests_per_minute } : {}),
  ...(l?.daily_quota ? { daily_quota: l.daily_quota } : {}),
});

export function createApiKeyService(deps: ApiDeps, credentials?: CredentialCache) {
  const { orm, config, clock, logger } = deps;
  const changed = (keyId: string) => credentials?.invalidate({ keyId });

  /** A key of the caller's organization that the caller may manage: their own, or any with `org:admin`. */
  async function manageable(em: EntityManager, principal: Principal, id: string): Promise<ApiKey> {
    const key = await em.findOne(ApiKeySchema, {
      id,
      organization: principal.organizationId,
      ...(can(principal, 'org:admin') ? {} : { createdBy: principal.userId }),
    });
    if (!key) throw new NotFoundError('API key', id);
    return key;
  }

  /**
   * A key acts with its creator's role, so changing it is acting as its creator: besides their
   * own keys, a caller may change only keys of users they outrank, and then only narrow them
   * (fewer scopes, name, expiry, rate limit). Nobody rotates another user's key: the new secret
   * would be in the caller's hands and act as that user (revoke it instead).
   */
  async function changeable(em: EntityManager, principal: Principal, id: string, change: 'update' | 'rotate', permissions?: readonly string[]): Promise<ApiKey> {
    const key = await manageable(em, principal, id);
    if (key.createdBy.id === principal.userId) return key;
    if (change === 'rotate') throw new ForbiddenError('Only the user who created a key can rotate it; revoke it instead');
    const creator = await key.createdBy.load();
    if (!creator || !outranks(principal.role, creator.role)) {
      throw new ForbiddenError('A key created by a user of equal or higher role can only be changed by that user; revoke it instead');
    }
    const added = (permissions ?? []).filter((p) => !key.permissions.includes(p));
    if (added.length) throw new ForbiddenError("Another user's key can only lose permissions, never gain them", { not_allowed: added });
    return key;
  }

  /** A key never carries more than the caller holds. */
  function assertGrantable(principal: Principal, permissions: readonly string[]): void {
    const missing = permissions.filter((p) => !principal.permissions.includes(p as Scope));
    if (missing.length) throw new ForbiddenError('A key cannot have permissions its creator does not have', { not_allowed: missing });
  }

  function assertFuture(expiresAt: Date | null | undefined): void {
    if (expiresAt && expiresAt <= clock.now()) {
      throw new ValidationError('expires_at must be in the future', { fields: [{ field: 'expires_at', location: 'body', message: 'must be in the future' }] });
    }
  }

  return {
    async create(principal: Principal, input: Required<Pick<KeyInput, 'name' | 'permissions'>> & KeyInput): Promise<{ key: ApiKey; secret: string }> {
      assertGrantable(principal, input.permissions);
      assertFuture(input.expiresAt);
      return orm.em.fork().transactional(async (em) => {
        const org = await em.findOneOrFail(OrganizationSchema, principal.organizationId);
        await em.execute('select id from organizations where id = ? for update', [org.id]);
        const { max_api_keys } = quotasOf(org.settings, config);
        if (max_api_keys > 0 && (await em.count(ApiKeySchema, { organization: org.id, status: 'active' })) >= max_api_keys) {
          throw new LimitExceededError('max_api_keys', max_api_keys);
        }
        const generated = generateApiKey();
        const key = em.create(ApiKeySchema, {
          organization: org.id,
          createdBy: principal.userId,
          name: input.name,
          keyPreview: generated.preview,
          keyHash: generated.hash,
          permissions: [...input.permissions],
          rateLimits: keyLimits(input.rateLimits),
          expiresAt: input.expiresAt ?? null,
        });
        await em.flush();
        return { key, secret: generated.key };
      });
    },

    async list(principal: Principal): Promise<ApiKey[]> {
      return orm.em.fork().find(
        ApiKeySchema,
        { organization: principal.organizationId, ...(can(principal, 'org:admin') ? {} : { createdBy: principal.userId }) },
        { orderBy: { createdAt: 'desc' } },
      );
    },

    async get(principal: Principal, id: string): Promise<ApiKey> {
      return manageable(orm.em.fork(), principal, id);
    },

    async update(principal: Principal, id: string, input: KeyInput): Promise<ApiKey> {
      const em = orm.em.fork();
      const key = await changeable(em, principal, id, 'update', input.permissions);
      if (key.status === 'revoked') throw new ConflictError('A revoked key cannot be changed');
      if (input.permissions) {
        assertGrantable(principal, input.permissions);
        key.permissions = [...input.permissions];
      }
      if (input.expiresAt !== undefined) {
        assertFuture(input.expiresAt);
        key.expiresAt = input.expiresAt;
      }
      if (input.name !== undefined) key.name = input.name;
      if (input.rateLimits !== undefined) key.rateLimits = keyLimits(input.rateLimits);
      await em.flush();
      changed(key.id);
      return key;
    },

    async revoke(principal: Principal, id: string): Promise<void> {
      const em = orm.em.fork();
      const key = await manageable(em, principal, id);
      if (key.status === 'revoked') return;
      key.status = 'revoked';
      key.revokedAt = clock.now();
      key.previousKeyHash = null;
      key.previousKeyExpiresAt = null;
      await em.flush();
      changed(key.id);
    },

    /** A new secret; the old one keeps working for `graceSeconds` (0: stops at once). */
    async rotate(principal: Principal, id: string, graceSeconds: number): Promise<{ key: ApiKey; secret: string }> {
      const em = orm.em.fork();
      const key = await changeable(em, principal, id, 'rotate');
      await em.populate(key, ['keyHash']);
      if (key.status === 'revoked') throw new ConflictError('A revoked key cannot be rotated');
      const generated = generateApiKey();
      key.previousKeyHash = graceSeconds > 0 ? key.keyHash : null;
      key.previousKeyExpiresAt = graceSeconds > 0 ? new Date(clock.now().getTime() + graceSeconds * 1000) : null;
      key.keyHash = generated.hash;
      key.keyPreview = generated.preview;
      await em.flush();
      changed(key.id);
      return { key, secret: generated.key };
    },

    /**
     * An `X-API-Key` value → the principal. Format and checksum are checked before any lookup;
     * a key resolved in the last few seconds and not changed since comes from the cache.
     */
    async authenticate(raw: string): Promise<Principal> {
      const format = checkApiKeyFormat(raw);
      if (format !== 'ok') throw new InvalidApiKeyError(format === 'bad_checksum' ? 'API key checksum mismatch' : 'Malformed API key');
      const hash = sha256Hex(raw);
      const now = clock.now();
      const cacheId = `key:${hash}`;
      const cached = credentials?.get(cacheId);
      if (cached) {
        touch(cached.principal.apiKeyId!, cached.lastUsedAt, now, () => (cached.lastUsedAt = now.getTime()));
        return cached.principal;
      }
      return credentials ? credentials.join(cacheId, () => lookUp(hash, cacheId, now)) : lookUp(hash, cacheId, now);
    },
  };

  async function lookUp(hash: string, cacheId: string, now: Date): Promise<Principal> {
    const version = credentials?.version() ?? 0;
    const em = orm.em.fork();
    const key = await em.findOne(
      ApiKeySchema,
      { $or: [{ keyHash: hash }, { previousKeyHash: hash, previousKeyExpiresAt: { $gt: now } }] },
      { populate: ['keyHash', 'previousKeyHash', 'createdBy', 'organization'] },
    );
    const current = key != null && digestsEqual(key.keyHash, hash);
    const matches = key && (current || (key.previousKeyHash != null && digestsEqual(key.previousKeyHash, hash)));
    if (!key || !matches || key.status !== 'active') throw new InvalidApiKeyError();
    if (key.expiresAt && key.expiresAt <= now) throw new InvalidApiKeyError('API key has expired');
    const creator = key.createdBy.getEntity();
    const org = key.organization.getEntity();
    if (creator.status !== 'active' || org.deletedAt) throw new InvalidApiKeyError();

    let lastUsedAt = key.lastUsedAt?.getTime();
    touch(key.id, lastUsedAt, now, () => (lastUsedAt = now.getTime()));
    const principal: Principal = {
      organizationId: org.id,
      userId: creator.id,
      apiKeyId: key.id,
      role: creator.role,
      permissions: keyPermissions(key.permissions, creator.role),
      limits: {
        classes: rateLimitsOf(org.settings, config),
        key: { perMinute: key.rateLimits.requests_per_minute, perDay: key.rateLimits.daily_quota },
        requestsPerDay: quotasOf(org.settings, config).requests_per_day,
      },
    };
    // Never past the key's expiry, nor past the end of a rotated-out secret's grace period.
    const ends = [key.expiresAt, current ? null : key.previousKeyExpiresAt].filter((d): d is Date => d != null).map((d) => d.getTime());
    credentials?.set(cacheId, version, principal, Math.min(Infinity, ...ends), lastUsedAt);
    return principal;
  }

  /** Coarse: at most one write per key per resolution period, and never in the request's way. */
  function touch(keyId: string, lastUsedAt: number | undefined, now: Date, written: () => void): void {
    if (lastUsedAt !== undefined && now.getTime() - lastUsedAt <= config.auth.apiKeyLastUsedResolutionMs) return;
    written();
    orm.em
      .fork()
      .nativeUpdate(ApiKeySchema, { id: keyId }, { lastUsedAt: now })
      .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'could not record API key use'));
  }
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>;
