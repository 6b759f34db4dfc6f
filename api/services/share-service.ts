import { MediaShareSchema, ProcessingJobSchema, type MediaShare } from '#entities/index.js';
import { ForbiddenError, NotFoundError, ValidationError } from '#lib/errors.js';
import { can, type Principal } from '../auth/principal.js';
import type { ApiDeps } from '../deps.js';
import type { MediaFileRow, MediaService } from './media-service.js';
import { hasActiveShare } from './share-access.js';

export interface ShareGrant {
  userId?: string;
  organizationId?: string;
  expiresAt?: Date;
}

/**
 * Sharing of media files with a user or another organization. Only the organization's own files
 * can be shared, listed or revoked (a grantee gets 404 here); granting and revoking need the
 * uploader or an organization admin. Reads through shares are checked by share-access.ts.
 */
export function createShareService(deps: ApiDeps, media: MediaService) {
  const { orm, clock } = deps;

  function assertOwner(principal: Principal, file: MediaFileRow): void {
    if (file.uploadedByUserId !== principal.userId && !can(principal, 'org:admin')) {
      throw new ForbiddenError('Only the user who uploaded the file or an organization admin can change its shares');
    }
  }

  return {
    async grant(principal: Principal, mediaId: string, grant: ShareGrant): Promise<{ share: MediaShare; created: boolean }> {
      const file = await media.get(principal.organizationId, mediaId);
      assertOwner(principal, file);
      const em = orm.em.fork();
      if (grant.expiresAt && grant.expiresAt.getTime() <= clock.now().getTime()) {
        throw new ValidationError('expires_at must be in the future', { fields: [{ field: 'expires_at', location: 'body', message: 'must be in the future' }] });
      }
      // Whether the grantee exists is never looked up: any answer would tell the caller which ids
      // name someone. A share to an id that names nobody reaches nobody.
      if (grant.userId && grant.userId === principal.userId) {
        throw new ValidationError('You cannot share a file with yourself', { fields: [{ field: 'user_id', location: 'body', message: 'is the caller' }] });
      }
      if (grant.organizationId && grant.organizationId === principal.organizationId) {
        throw new ValidationError('The file already belongs to this organization', {
          fields: [{ field: 'organization_id', location: 'body', message: 'is the owning organization' }],
        });
      }
      const grantee = grant.userId ? { granteeUserId: grant.userId } : { granteeOrganizationId: grant.organizationId! };
      const existing = await em.findOne(MediaShareSchema, { media: mediaId, ...grantee });
      if (existing) {
        existing.expiresAt = grant.expiresAt ?? null;
        await em.flush();
        return { share: existing, created: false };
      }
      const share = em.create(MediaShareSchema, {
        media: mediaId,
        organization: principal.organizationId,
        granteeUserId: grant.userId ?? null,
        granteeOrganizationId: grant.organizationId ?? null,
        createdByUserId: principal.userId,
        expiresAt: grant.expiresAt ?? null,
      });
      await em.flush();
      return { share, created: true };
    },

    async list(principal: Principal, mediaId: string): Promise<MediaShare[]> {
      await media.get(principal.organizationId, mediaId);
      return orm.em.fork().find(MediaShareSchema, { media: mediaId, organization: principal.organizationId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
    },

    /**
     * The organization whose job `jobId` the caller may read: the caller's own, or the job's when
     * the job's input file is shared with the caller. Job reads then stay organization-scoped.
     */
    async jobScope(principal: Principal, jobId: string): Promise<string> {
      const em = orm.em.fork();
      const job = await em.findOne(ProcessingJobSchema, { id: jobId }, { fields: ['id', 'organization', 'inputMedia'] });
      if (!job || job.organization.id === principal.organizationId) return principal.organizationId;
      return (await hasActiveShare(em, principal, job.inputMedia.id, clock.now())) ? job.organization.id : principal.organizationId;
    },

    async revoke(principal: Principal, mediaId: string, shareId: string): Promise<void> {
      const file = await media.get(principal.organizationId, mediaId);
      assertOwner(principal, file);
      const removed = await orm.em.fork().nativeDelete(MediaShareSchema, { id: shareId, media: mediaId, organization: principal.organizationId });
      if (removed === 0) throw new NotFoundError('Share', shareId);
    },
  };
}

export type ShareService = ReturnType<typeof createShareService>;
