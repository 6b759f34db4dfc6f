import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { OrganizationSchema, RefreshTokenSchema, UserSchema, type Organization, type User, type UserRole } from '#entities/index.js';
import { ConflictError, ForbiddenError, TokenExpiredError, UnauthorizedError } from '#lib/errors.js';
import { createPasswordHasher } from '#lib/passwords.js';
import { createAccessTokens, generateOpaqueToken, sha256Hex } from '#lib/tokens.js';
import { quotasOf, rateLimitsOf } from '../auth/limits.js';
import { ROLE_PERMISSIONS } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import type { ApiDeps } from '../deps.js';
import type { RateLimitService } from './rate-limit-service.js';
import type { CredentialCache } from './credential-cache.js';

export interface IssuedSession {
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  refreshExpiresIn: number;
  user: User;
  organization: Organization;
}

export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

export function createAuthService(deps: ApiDeps, rateLimits: RateLimitService, credentials?: CredentialCache) {
  const { orm, config, clock } = deps;
  const passwords = createPasswordHasher(config.auth.argon2);
  const tokens = createAccessTokens({
    secret: config.auth.jwtSecret,
    issuer: config.auth.jwtIssuer,
    audience: config.auth.jwtAudience,
    ttlSeconds: config.auth.accessTtlSeconds,
  });
  // Its own key, derived from the JWT secret: a codec cookie is never an access token, nor the reverse.
  const codecKey = createHmac('sha256', config.auth.jwtSecret || 'unset').update('mediaflow codec session').digest();
  const codecMac = (payload: string) => createHmac('sha256', codecKey).update(payload).digest('base64url');
  /** `v1.<subject, base64url>.<expiry, unix seconds>.<HMAC>` */
  const codecSessions = {
    sign(subject: string, expiresAt: Date): string {
      const payload = `v1.${Buffer.from(subject).toString('base64url')}.${Math.floor(expiresAt.getTime() / 1000)}`;
      return `${payload}.${codecMac(payload)}`;
    },
    verify(token: string, now: Date): string | null {
      const parts = token.split('.');
      if (parts.length !== 4 || parts[0] !== 'v1' || !/^\d{1,12}$/.test(parts[2]!)) return null;
      const expected = Buffer.from(codecMac(parts.slice(0, 3).join('.')));
      const given = Buffer.from(parts[3]!);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
      if (Number(parts[2]) * 1000 <= now.getTime()) return null;
      return Buffer.from(parts[1]!, 'base64url').toString();
    },
  };

  /** A new session: a refresh-token family with its first token, and an access token bound to it. */
  async function issue(em: EntityManager, user: User, organization: Organization, familyId: string = randomUUID()): Promise<IssuedSession> {
    const refresh = generateOpaqueToken('mfr');
    em.create(RefreshTokenSchema, {
      user: user.id,
      familyId,
      tokenHash: refresh.hash,
      expiresAt: new Date(clock.now().getTime() + config.auth.refreshTtlSeconds * 1000),
    });
    await em.flush();
    const access = await tokens.sign({ userId: user.id, organizationId: organization.id, sessionId: familyId });
    return {
      accessToken: access.token,
      expiresIn: access.expiresIn,
      refreshToken: refresh.token,
      refreshExpiresIn: config.auth.refreshTtlSeconds,
      user,
      organization,
    };
  }

  const revokeFamilies = (em: EntityManager, where: Record<string, unknown>) =>
    em.nativeUpdate(RefreshTokenSchema, { revokedAt: null, ...where }, { revokedAt: clock.now() });

  return {
    passwords,

    async register(req: { organizationName: string; name: string; email: string; password: string }): Promise<IssuedSession> {
      const em = orm.em.fork();
      const email = normalizeEmail(req.email);
      const passwordHash = await passwords.hash(req.password);
      const organization = em.create(OrganizationSchema, {
        name: req.organizationName,
        slug: `${slugify(req.organizationName)}-${randomBytes(4).toString('hex')}`,
        email,
        settings: {},
        metadata: {},
      });
      const user = em.create(UserSchema, { organization, email, passwordHash, name: req.name, role: 'owner', status: 'active', lastLoginAt: clock.now() });
      try {
        await em.flush();
      } catch (err) {
        if (err instanceof UniqueConstraintViolationException) throw new ConflictError('This email is already registered');
        throw err;
      }
      return issue(em, user, organization);
    },

    /** The same 401 whether the email is unknown or the password wrong; failures are counted per IP and email. */
    async login(req: { email: string; password: string }, ip: string): Promise<IssuedSession> {
      const email = normalizeEmail(req.email);
      await rateLimits.logins.assertAllowed(ip, email);
      const em = orm.em.fork();
      const user = await em.findOne(
        UserSchema,
        { email, status: 'active', organization: { deletedAt: null } },
        { populate: ['passwordHash', 'organization'] },
      );
      const check = await passwords.verify(user?.passwordHash, req.password);
      if (!user || !check.ok) {
        await rateLimits.logins.failed(ip, email);
        throw new UnauthorizedError('Invalid email or password');
      }
      await rateLimits.logins.succeeded(ip, email);
      if (check.rehash) user.passwordHash = await passwords.hash(req.password);
      user.lastLoginAt = clock.now();
      return issue(em, user, user.organization.getEntity());
    },

    /** Rotation: each refresh token works once; a second use revokes the whole family. */
    async refresh(refreshToken: string): Promise<IssuedSession> {
      const em = orm.em.fork();
      const row = await em.findOne(RefreshTokenSchema, { tokenHash: sha256Hex(refreshToken) }, { populate: ['user', 'user.organization'] });
      if (!row) throw new UnauthorizedError('Invalid refresh token');
      if (row.usedAt || row.revokedAt) {
        await revokeFamilies(em, { familyId: row.familyId });
        credentials?.invalidate({ sessionId: row.familyId });
        throw new UnauthorizedError('Refresh token already used; the session has been revoked');
      }
      if (row.expiresAt <= clock.now()) throw new TokenExpiredError('The refresh token has expired');
      // Conditional update: of two concurrent uses of one token, exactly one wins.
      const won = await em.nativeUpdate(RefreshTokenSchema, { id: row.id, usedAt: null, revokedAt: null }, { usedAt: clock.now() });
      if (won !== 1) {
        await revokeFamilies(em, { familyId: row.familyId });
        credentials?.invalidate({ sessionId: row.familyId });
        throw new UnauthorizedError('Refresh token already used; the session has been revoked');
      }
      const user = row.user.getEntity();
      const organization = user.organization.getEntity();
      if (user.status !== 'active' || organization.deletedAt) throw new UnauthorizedError('Invalid refresh token');
      return issue(em, user, organization, row.familyId);
    },

    async acceptInvitation(req: { token: string; password: string; name?: string }): Promise<IssuedSession> {
      const em = orm.em.fork();
      const user = await em.findOne(
        UserSchema,
        { invitationTokenHash: sha256Hex(req.token), status: 'invited', invitationExpiresAt: { $gt: clock.now() }, organization: { deletedAt: null } },
        { populate: ['organization'] },
      );
      if (!user) throw new UnauthorizedError('Invalid or expired invitation');
      user.passwordHash = await passwords.hash(req.password);
      user.status = 'active';
      user.invitationTokenHash = null;
      user.invitationExpiresAt = null;
      user.lastLoginAt = clock.now();
      if (req.name) user.name = req.name;
      return issue(em, user, user.organization.getEntity());
    },

    async logout(principal: Principal): Promise<void> {
      if (!principal.sessionId) return;
      await revokeFamilies(orm.em.fork(), { familyId: principal.sessionId, user: principal.userId });
      credentials?.invalidate({ sessionId: principal.sessionId });
    },

    async me(principal: Principal): Promise<{ user: User; organization: Organization }> {
      const user = await orm.em.fork().findOneOrFail(UserSchema, { id: principal.userId, organization: principal.organizationId }, { populate: ['organization'] });
      return { user, organization: user.organization.getEntity() };
    },

    /** Every other session of the user ends; the current one goes on. */
    async changePassword(principal: Principal, req: { currentPassword: string; newPassword: string }, ip: string): Promise<void> {
      const em = orm.em.fork();
      const user = await em.findOneOrFail(UserSchema, { id: principal.userId, organization: principal.organizationId }, { populate: ['passwordHash'] });
      await rateLimits.logins.assertAllowed(ip, user.email);
      const check = await passwords.verify(user.passwordHash, req.currentPassword);
      if (!check.ok) {
        await rateLimits.logins.failed(ip, user.email);
        throw new ForbiddenError('The current password is wrong');
      }
      user.passwordHash = await passwords.hash(req.newPassword);
      await em.flush();
      await revokeFamilies(em, { user: user.id, ...(principal.sessionId ? { familyId: { $ne: principal.sessionId } } : {}) });
      credentials?.invalidate({ userId: user.id });
    },

    /**
     * A bearer token → the principal, checked against the database: the user still active, the
     * session still live. A token resolved in the last few seconds and not changed since comes
     * from the cache.
     */
    async authenticateBearer(token: string): Promise<Principal> {
      const cacheId = `bearer:${token}`;
      const cached = credentials?.get(cacheId);
      if (cached) return cached.principal;
      const lookUp = async () => {
        const version = credentials?.version() ?? 0;
        const result = await tokens.verify(token);
        if (!result.ok) throw result.reason === 'expired' ? new TokenExpiredError('The access token has expired') : new UnauthorizedError('Invalid access token');
        const { userId, organizationId, sessionId } = result.claims;
        const { principal, sessionEndsAt } = await sessionPrincipal(userId, organizationId, sessionId);
        // Never past the token's own expiry nor the session's.
        credentials?.set(cacheId, version, principal, Math.min(expiryOf(token), sessionEndsAt));
        return principal;
      };
      return credentials ? credentials.join(cacheId, lookUp) : lookUp();
    },

    /**
     * The codec session cookie for the Temporal Web UI (see docs/security.md): signed, bound to the
     * signed-in session it was issued from (logout or a password change ends it too), at most
     * CODEC_SESSION_HOURS long. Only for a caller that holds platform:admin now.
     */
    async issueCodecSession(principal: Principal): Promise<{ value: string; expiresAt: Date }> {
      if (!principal.sessionId) throw new UnauthorizedError('A codec session is opened with a signed-in user\'s bearer token');
      const { sessionEndsAt } = await sessionPrincipal(principal.userId, principal.organizationId, principal.sessionId);
      const expiresAt = new Date(Math.min(clock.now().getTime() + CODEC_SESSION_HOURS * 3_600_000, sessionEndsAt));
      return { value: codecSessions.sign([principal.userId, principal.organizationId, principal.sessionId].join('~'), expiresAt), expiresAt };
    },

    /** The codec session cookie → the principal, checked as a bearer token is (user active, session live). */
    async authenticateCodecSession(value: string): Promise<Principal> {
      const subject = codecSessions.verify(value, clock.now());
      const [userId, organizationId, sessionId] = subject?.split('~') ?? [];
      if (!userId || !organizationId || !sessionId) throw new UnauthorizedError('The codec session is invalid or has expired; open a new one');
      return (await sessionPrincipal(userId, organizationId, sessionId)).principal;
    },
  };

  /** The principal of a signed-in session: the user still active, the session still live. */
  async function sessionPrincipal(userId: string, organizationId: string, sessionId: string): Promise<{ principal: Principal; sessionEndsAt: number }> {
    const em = orm.em.fork();
    const [user, live] = await Promise.all([
      em.findOne(UserSchema, { id: userId, organization: { id: organizationId, deletedAt: null }, status: 'active' }, { populate: ['organization'] }),
      em.findOne(
        RefreshTokenSchema,
        { familyId: sessionId as never, user: userId, revokedAt: null, usedAt: null, expiresAt: { $gt: clock.now() } },
        { fields: ['expiresAt'], orderBy: { expiresAt: 'desc' } },
      ),
    ]);
    if (!user || !live) throw new UnauthorizedError('The session has ended');
    const settings = user.organization.getEntity().settings;
    const principal: Principal = {
      organizationId,
      userId,
      sessionId,
      role: user.role as UserRole,
      permissions: [
        ...ROLE_PERMISSIONS[user.role as UserRole],
        // Only the flag set out of band, or an id in the configuration; never the email.
        ...(user.platformAdmin || config.auth.platformAdminUserIds.includes(user.id) ? (['platform:admin'] as const) : []),
      ],
      limits: { classes: rateLimitsOf(settings, config), requestsPerDay: quotasOf(settings, config).requests_per_day },
    };
    return { principal, sessionEndsAt: live.expiresAt.getTime() };
  }
}

/** How long a codec session cookie lasts at most (a working day of reading histories). */
export const CODEC_SESSION_HOURS = 8;

/** `exp` of a JWT already verified (epoch ms). */
function expiryOf(token: string): number {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: number };
  return typeof payload.exp === 'number' ? payload.exp * 1000 : 0;
}

export type AuthService = ReturnType<typeof createAuthService>;

function slugify(name: string): string {
  return (
    name
      .normalize('NFKD')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80) || 'org'
  );
}
