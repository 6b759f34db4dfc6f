import type { ObjectStorage } from './storage.js';

/** The stored objects of a media file: its bytes and, for images once asked for, its thumbnail. */
export async function removeMediaObjects(storage: ObjectStorage, media: { storagePath: string; thumbnailPath?: string | null }): Promise<void> {
  // S3 deletes are idempotent: a missing object is not an error, so a repeated removal is harmless.
  await storage.remove(media.storagePath);
  if (media.thumbnailPath) await storage.remove(media.thumbnailPath);
}
