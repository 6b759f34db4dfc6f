import { MediaFileSchema, ProcessingJobSchema } from '#entities/index.js';
import { removeMediaObjects } from '#lib/media-objects.js';
import type { ApiDeps } from '../deps.js';
import type { MediaService } from './media-service.js';

export function createMediaDeletion(deps: ApiDeps, media: MediaService) {
  const { orm, storage } = deps;
  return {
    /**
     * DELETE /api/v1/media/{id}: the objects go first, then the row is marked deleted (kept, so the
     * jobs that used it keep their history). A failure in between leaves a row a repeated DELETE fixes.
     */
    async remove(organizationId: string, id: string): Promise<void> {
      const file = await media.get(organizationId, id);
      await removeMediaObjects(storage, file);
      await orm.em.fork().nativeUpdate(MediaFileSchema, { id: file.id, organization: organizationId }, { status: 'deleted', thumbnailPath: null });
    },

    /** Removes a file nobody has seen yet (a repeated idempotent upload): objects and row. */
    async discard(organizationId: string, id: string): Promise<void> {
      const em = orm.em.fork();
      const file = await em.findOne(MediaFileSchema, { id, organization: organizationId });
      if (!file) return;
      await removeMediaObjects(storage, file);
      const used = await em.count(ProcessingJobSchema, { $or: [{ inputMedia: id }, { resultMedia: id }] });
      if (used) await em.nativeUpdate(MediaFileSchema, { id }, { status: 'deleted', thumbnailPath: null });
      else await em.nativeDelete(MediaFileSchema, { id });
    },
  };
}
