import type { EntityManager } from '@mikro-orm/postgresql';
import { MediaShareSchema } from '#entities/index.js';
import type { Principal } from '../auth/principal.js';

/**
 * Whether a share of `mediaId` reaches the caller: granted to the caller's user or organization,
 * and not expired. Shares are rows that revoking deletes, so this is checked on every read.
 */
export async function hasActiveShare(em: EntityManager, principal: Principal, mediaId: string, now: Date): Promise<boolean> {
  const count = await em.count(MediaShareSchema, {
    media: mediaId,
    $and: [
      { $or: [{ granteeUserId: principal.userId }, { granteeOrganizationId: principal.organizationId }] },
      { $or: [{ expiresAt: null }, { expiresAt: { $gt: now } }] },
    ],
  });
  return count > 0;
}
