import type { RatePolicy, RouteClass } from '#lib/config.js';
import type { UserRole } from '#entities/index.js';
import type { Permission } from './permissions.js';

/** Who is calling, resolved from the credentials on every request (roles and revocations apply at once). */
export interface Principal {
  organizationId: string;
  /** The signed-in user, or the user who created the API key (whose role bounds the key). */
  userId: string;
  apiKeyId?: string;
  /** Bearer tokens only: the refresh-token family the access token belongs to. */
  sessionId?: string;
  role: UserRole;
  permissions: Permission[];
  limits: PrincipalLimits;
}

export interface PrincipalLimits {
  /** Each route class's policy for this caller (the organization's, over the platform's). */
  classes: Record<RouteClass, RatePolicy>;
  /** An API key's own limits over all its requests (unset: none): `requests_per_minute`, `daily_quota`. */
  key?: { perMinute?: number; perDay?: number };
  /** The organization's daily request quota (0: unlimited). */
  requestsPerDay: number;
}

export const can = (p: Principal, permission: Permission): boolean =>
  permission === 'authenticated' || p.permissions.includes(permission);
