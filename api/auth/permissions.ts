import type { UserRole } from '#entities/index.js';

/** Scopes an API key may carry (the spec's `Permission` enum). */
export const SCOPES = ['media:read', 'media:write', 'jobs:read', 'jobs:create', 'usage:read', 'keys:manage', 'org:admin'] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * What an operation's `x-permission` may name: a scope, owner-only `org:delete`, any valid
 * credential, or `platform:admin` — operators of the whole platform (the users.platform_admin flag
 * set by `npm run admin:grant`, or PLATFORM_ADMIN_USER_IDS), signed in with a bearer token; no
 * role, API key, email or request grants it.
 */
export const PERMISSIONS = [...SCOPES, 'org:delete', 'authenticated', 'platform:admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** The one permission table: every route's `x-permission` is checked against it. */
export const ROLE_PERMISSIONS: Record<UserRole, readonly Permission[]> = {
  owner: [...SCOPES, 'org:delete'],
  admin: [...SCOPES],
  member: ['media:read', 'media:write', 'jobs:read', 'jobs:create', 'usage:read', 'keys:manage'],
};

const RANK: Record<UserRole, number> = { member: 0, admin: 1, owner: 2 };
export const outranks = (a: UserRole, b: UserRole): boolean => RANK[a] > RANK[b];

export const isPermission = (v: string): v is Permission => (PERMISSIONS as readonly string[]).includes(v);
export const isScope = (v: string): v is Scope => (SCOPES as readonly string[]).includes(v);

/** A key's effective rights: its own scopes, cut down to what its creator's role allows now. */
export function keyPermissions(scopes: readonly string[], creatorRole: UserRole): Permission[] {
  const allowed = ROLE_PERMISSIONS[creatorRole];
  return scopes.filter((s): s is Scope => isScope(s) && allowed.includes(s));
}
