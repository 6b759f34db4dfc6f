import type { ApiKey, Organization, User } from '#entities/index.js';
import type { components } from '../generated/openapi.js';
import type { Scope } from './permissions.js';
import type { IssuedSession } from '../services/auth-service.js';
import type { OrganizationView } from '../services/organization-service.js';

// Whitelists: hashes and tokens never reach a reply because only these fields are copied.
type Schemas = components['schemas'];
const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

export const toUser = (u: User): Schemas['User'] => ({
  id: u.id,
  organization_id: u.organization.id,
  email: u.email,
  name: u.name,
  role: u.role,
  status: u.status === 'removed' ? 'suspended' : u.status,
  last_login_at: iso(u.lastLoginAt),
  created_at: u.createdAt.toISOString(),
});

export const toOrganizationSummary = (o: Organization): Schemas['OrganizationSummary'] => ({ id: o.id, name: o.name, slug: o.slug });

export const toOrganization = (v: OrganizationView): Schemas['Organization'] => ({
  id: v.organization.id,
  name: v.organization.name,
  slug: v.organization.slug,
  email: v.organization.email,
  quotas: v.quotas,
  quota_bounds: v.quotaBounds,
  rate_limits: v.rateLimits,
  metadata: v.organization.metadata,
  created_at: v.organization.createdAt.toISOString(),
});

export const toSession = (s: IssuedSession): Schemas['Session'] => ({
  access_token: s.accessToken,
  token_type: 'bearer',
  expires_in: s.expiresIn,
  refresh_token: s.refreshToken,
  refresh_expires_in: s.refreshExpiresIn,
  user: toUser(s.user),
  organization: toOrganizationSummary(s.organization),
});

export function toApiKey(k: ApiKey, now: Date): Schemas['ApiKey'] {
  const expired = k.status === 'active' && k.expiresAt !== null && k.expiresAt !== undefined && k.expiresAt <= now;
  return {
    key_id: k.id,
    name: k.name,
    key_preview: k.keyPreview,
    permissions: k.permissions as Scope[],
    rate_limits: k.rateLimits,
    status: expired ? 'expired' : k.status,
    created_by_user_id: k.createdBy.id,
    created_at: k.createdAt.toISOString(),
    expires_at: iso(k.expiresAt),
    last_used_at: iso(k.lastUsedAt),
    usage_count: Number(k.usageCount ?? 0),
    previous_key_expires_at: k.previousKeyExpiresAt && k.previousKeyExpiresAt > now ? k.previousKeyExpiresAt.toISOString() : null,
  };
}
