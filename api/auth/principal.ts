import type { RouteClass } from '../../lib/config.js';
import type { UserRole } from '../../entities/index.js';
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
  /** Requests per minute per route class for this caller. */
  perMinute: Record<RouteClass, number>;
  /** The organization's daily request quota (0: unlimited). */
  requestsPerDay: number;
}

export const can = (p: Principal, permission: Permission): boolean =>
  permission === 'authenticated' || p.permissions.includes(permission);
