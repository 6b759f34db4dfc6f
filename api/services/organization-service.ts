import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ApiKeySchema, OrganizationSchema, RefreshTokenSchema, UserSchema, type Organization, type User, type UserRole } from '#entities/index.js';
import { ConflictError, ForbiddenError, LimitExceededError, NotFoundError, ValidationError } from '#lib/errors.js';
import { generateOpaqueToken } from '#lib/tokens.js';
import { OWNER_QUOTAS, outOfBounds, platformQuotasOf, quotasOf, rateLimitsOf, type OwnerQuota, type Quotas } from '../auth/limits.js';
import { outranks } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import type { RouteClass } from '#lib/config.js';
import type { ApiDeps } from '../deps.js';
import { normalizeEmail } from './auth-service.js';
import type { CredentialCache } from './credential-cache.js';
import { providerKeyStoreOf, type StoredKeyChanges, type StoredKeysStatus } from './provider-keys.js';

export interface OrganizationView {
  organization: Organization;
  quotas: Quotas;
  /** The platform's quotas for the organization: the bounds of what its owner may set. */
  quotaBounds: Quotas;
  rateLimits: Record<RouteClass, number>;
}

/** An owner's change to the quotas: a value, or null to go back to the platform's. */
export type QuotaChanges = Partial<Record<OwnerQuota | 'retention_days', number | null>>;

const LISTED_STATUSES = ['active', 'invited', 'suspended'] as const;

export function createOrganizationService(deps: ApiDeps, credentials?: CredentialCache) {
  const { orm, config, clock } = deps;
  const providerKeys = providerKeyStoreOf(deps);

  /** Only the caller's own organization exists for them: any other id is 404. */
  async function own(em: EntityManager, principal: Principal, id: string): Promise<Organization> {
    if (id !== principal.organizationId) throw new NotFoundError('Organization', id);
    const org = await em.findOne(OrganizationSchema, { id, deletedAt: null });
    if (!org) throw new NotFoundError('Organization', id);
    return org;
  }
  const view = (organization: Organization): OrganizationView => ({
    organization,
    quotas: quotasOf(organization.settings, config),
    quotaBounds: platformQuotasOf(organization.settings, config),
    rateLimits: Object.fromEntries(Object.entries(rateLimitsOf(organization.settings, config)).map(([c, p]) => [c, p.limit])) as Record<RouteClass, number>,
  });

  /**
   * The owner's quotas after `changes`, each checked against the platform's bound (400 naming it).
   * `retention_days` is `retention_hours` × 24.
   */
  function ownerQuotas(settings: Record<string, unknown>, changes: QuotaChanges): Record<string, number> {
    const bounds = platformQuotasOf(settings, config);
    const next = { ...((settings.owner_quotas ?? {}) as Record<string, number>) };
    const { retention_days, ...rest } = changes;
    const wanted: Partial<Record<OwnerQuota, number | null>> = { ...rest };
    if (retention_days !== undefined) {
      if (changes.retention_hours !== undefined) throw quotaError('retention_days', 'give retention_hours or retention_days, not both');
      wanted.retention_hours = retention_days === null ? null : retention_days * 24;
    }
    for (const name of OWNER_QUOTAS) {
      const v = wanted[name];
      if (v === undefined) continue;
      if (v === null) {
        delete next[name];
        continue;
      }
      const why = outOfBounds(name, v, bounds[name]);
      if (why) throw quotaError(name === 'retention_hours' && retention_days !== undefined ? 'retention_days' : name, why, { max: bounds[name] });
      next[name] = v;
    }
    return next;
  }
  const quotaError = (name: string, message: string, extra: Record<string, unknown> = {}) =>
    new ValidationError(`quotas.${name} ${message}`, { fields: [{ field: `quotas.${name}`, location: 'body', message }], ...extra });
  async function member(em: EntityManager, organizationId: string, userId: string): Promise<User> {
    const user = await em.findOne(UserSchema, { id: userId, organization: organizationId, status: { $in: [...LISTED_STATUSES] } });
    if (!user) throw new NotFoundError('User', userId);
    return user;
  }
  /** Serialises owner changes within an organization, so two demotions cannot both pass the last-owner check. */
  const lockOrganization = (em: EntityManager, id: string) => em.execute('select id from organizations where id = ? for update', [id]);
  const activeOwners = (em: EntityManager, organizationId: string) =>
    em.count(UserSchema, { organization: organizationId, role: 'owner', status: 'active' });
  /** The user's sessions and keys stop working at once. */
  async function cutOff(em: EntityManager, user: User): Promise<void> {
    const now = clock.now();
    await em.nativeUpdate(RefreshTokenSchema, { user: user.id, revokedAt: null }, { revokedAt: now });
    await em.nativeUpdate(ApiKeySchema, { createdBy: user.id, status: 'active' }, { status: 'revoked', revokedAt: now, previousKeyHash: null });
  }

  return {
    quotasOf: (org: Organization) => quotasOf(org.settings, config),

    async get(principal: Principal, id: string): Promise<OrganizationView> {
      return view(await own(orm.em.fork(), principal, id));
    },

    /**
     * Name, email and metadata; and, by the owner only, the quotas the owner may set, within the
     * platform's (`settings.quotas` and the defaults stay the operators'). The row is locked so
     * two concurrent changes of settings do not lose one another.
     */
    async update(
      principal: Principal,
      id: string,
      changes: { name?: string; email?: string; metadata?: Record<string, unknown>; quotas?: QuotaChanges },
    ): Promise<OrganizationView> {
      if (changes.quotas && principal.role !== 'owner') throw new ForbiddenError("Only the organization's owner may change its quotas", { required: 'owner' });
      const updated = await orm.em.fork().transactional(async (em) => {
        if (changes.quotas) await lockOrganization(em, id);
        const org = await own(em, principal, id);
        if (changes.name !== undefined) org.name = changes.name;
        if (changes.email !== undefined) org.email = normalizeEmail(changes.email);
        if (changes.metadata !== undefined) org.metadata = changes.metadata;
        if (changes.quotas) org.settings = { ...org.settings, owner_quotas: ownerQuotas(org.settings, changes.quotas) };
        await em.flush();
        return view(org);
      });
      // The changed settings reach this instance's cached credentials at once (the others by NOTIFY).
      if (changes.quotas) credentials?.invalidate({ organizationId: id });
      return updated;
    },

    /** Soft delete: every credential of the organization stops working at once. */
    async remove(principal: Principal, id: string): Promise<void> {
      await orm.em.fork().transactional(async (em) => {
        const org = await own(em, principal, id);
        org.deletedAt = clock.now();
        await em.flush();
        await em.nativeUpdate(ApiKeySchema, { organization: id, status: 'active' }, { status: 'revoked', revokedAt: clock.now(), previousKeyHash: null });
        const users = await em.find(UserSchema, { organization: id });
        await em.nativeUpdate(RefreshTokenSchema, { user: { $in: users.map((u) => u.id) }, revokedAt: null }, { revokedAt: clock.now() });
      });
      credentials?.invalidate({ organizationId: id });
    },

    async listUsers(principal: Principal, id: string): Promise<User[]> {
      const em = orm.em.fork();
      await own(em, principal, id);
      return em.find(UserSchema, { organization: id, status: { $in: [...LISTED_STATUSES] } }, { orderBy: { createdAt: 'asc' } });
    },

    /** Which AI provider keys the organization has stored (never the keys). */
    async providerKeys(principal: Principal, id: string): Promise<StoredKeysStatus> {
      await own(orm.em.fork(), principal, id);
      return providerKeys.status(id);
    },

    async setProviderKeys(principal: Principal, id: string, changes: StoredKeyChanges): Promise<StoredKeysStatus> {
      await own(orm.em.fork(), principal, id);
      return providerKeys.set(id, changes);
    },

    /** Admins invite admins and members; only owners invite owners. */
    async invite(principal: Principal, id: string, req: { email: string; name: string; role: UserRole }): Promise<{ user: User; token: string }> {
      if (outranks(req.role, principal.role)) throw new ForbiddenError(`A ${principal.role} cannot invite an ${req.role}`);
      const em = orm.em.fork();
      return em.transactional(async (tx) => {
        const org = await own(tx, principal, id);
        await lockOrganization(tx, id);
        const { max_users } = quotasOf(org.settings, config);
        if (max_users > 0 && (await tx.count(UserSchema, { organization: id, status: { $in: [...LISTED_STATUSES] } })) >= max_users) {
          throw new LimitExceededError('max_users', max_users);
        }
        const email = normalizeEmail(req.email);
        const invitation = generateOpaqueToken('mfi');
        const fields = {
          name: req.name,
          role: req.role,
          status: 'invited' as const,
          passwordHash: null,
          invitationTokenHash: invitation.hash,
          invitationExpiresAt: new Date(clock.now().getTime() + config.auth.invitationTtlSeconds * 1000),
        };
        // Someone removed from this organization earlier may be invited back.
        const removed = await tx.findOne(UserSchema, { email, organization: id, status: 'removed' });
        const user = removed ? Object.assign(removed, fields) : tx.create(UserSchema, { organization: id, email, ...fields });
        try {
          await tx.flush();
        } catch (err) {
          if (err instanceof UniqueConstraintViolationException) throw new ConflictError('This email is already registered');
          throw err;
        }
        return { user, token: invitation.token };
      });
    },

    /** Admins cannot remove owners; nobody removes the last owner. */
    async removeUser(principal: Principal, id: string, userId: string): Promise<void> {
      await orm.em.fork().transactional(async (em) => {
        await own(em, principal, id);
        await lockOrganization(em, id);
        const user = await member(em, id, userId);
        if (outranks(user.role, principal.role)) throw new ForbiddenError(`A ${principal.role} cannot remove an ${user.role}`);
        if (user.role === 'owner' && user.status === 'active' && (await activeOwners(em, id)) <= 1) {
          throw new ConflictError('The last owner of an organization cannot be removed');
        }
        user.status = 'removed';
        user.invitationTokenHash = null;
        await em.flush();
        await cutOff(em, user);
      });
      credentials?.invalidate({ userId });
    },

    /** Only owners grant or take away `owner`; the last owner stays an owner. */
    async changeRole(principal: Principal, id: string, userId: string, role: UserRole): Promise<User> {
      const changed = await orm.em.fork().transactional(async (em) => {
        await own(em, principal, id);
        await lockOrganization(em, id);
        const user = await member(em, id, userId);
        if (outranks(role, principal.role) || outranks(user.role, principal.role)) {
          throw new ForbiddenError(`A ${principal.role} cannot change an ${user.role} to ${role}`);
        }
        if (user.role === 'owner' && role !== 'owner' && user.status === 'active' && (await activeOwners(em, id)) <= 1) {
          throw new ConflictError('The last owner of an organization cannot be demoted');
        }
        user.role = role;
        await em.flush();
        return user;
      });
      credentials?.invalidate({ userId });
      return changed;
    },
  };
}

export type OrganizationService = ReturnType<typeof createOrganizationService>;
