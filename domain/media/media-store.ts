import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { MikroORM } from '@mikro-orm/postgresql';
import { MediaFileSchema, type MediaFile } from '#entities/index.js';
import type { Digest } from '#lib/hashing.js';
import { keys, type ObjectStorage } from '#lib/storage.js';
import { ingest } from './ingest.js';
import type { MediaInspector } from './inspect.js';
import type { DetectedType } from './media-types.js';

/** Who uploads, and the organization's limits for the upload (from its quotas). */
export interface UploadContext {
  userId?: string;
  apiKeyId?: string;
  maxFileSizeBytes?: number;
  retentionDays?: number;
}

/** How one file is stored: beyond who and the limits, the id to use and checks of what arrived. */
export interface StoreOptions extends UploadContext {
  /** The media id (a presigned upload's or an import's); a new one when absent. */
  id?: string;
  /** Called once the type is known from the magic bytes, before anything is stored: throw to refuse. */
  accept?: (type: DetectedType) => void;
  /** Called once the file is stored, before it is recorded: throw to refuse (the object is removed). */
  verify?: (type: DetectedType, digest: Digest) => void;
}

export interface MediaStoreDeps {
  orm: MikroORM;
  storage: ObjectStorage;
  clock: { now(): Date };
  limits: { imageMaxBytes: number; audioMaxBytes: number; retentionDays: number };
  /** Reads dimensions, duration and codec before the file is recorded, refusing what breaks a limit. */
  inspect?: MediaInspector;
  /**
   * Called once an image is recorded (its thumbnail pending): starts the worker's thumbnail.
   * It must not throw: the upload has succeeded whatever happens to its thumbnail.
   */
  onImageStored?: (media: MediaFile) => Promise<void>;
}

/**
 * The one path by which a file becomes a media file: streamed through `ingest` (magic-byte type,
 * hashes, size limit, storage.put), then recorded. Shared by the API's uploads and the worker's
 * URL imports, so every file arrives the same way.
 */
export function createMediaStore(deps: MediaStoreDeps) {
  const { orm, storage, clock, limits, inspect, onImageStored } = deps;
  return {
    /** Streams a file to storage, inspects and records it; the object is removed if a check or the record fails. */
    async store(organizationId: string, stream: Readable, originalFilename: string, by: StoreOptions = {}): Promise<MediaFile> {
      const id = by.id ?? randomUUID();
      const key = keys.original(organizationId, id);
      // The inspection reads a local copy written while the upload streams to storage: the stored
      // object is encrypted, and reading it back would double the transfer.
      const spoolDir = inspect ? await mkdtemp(join(tmpdir(), 'mf-ingest-')) : undefined;
      const spoolPath = spoolDir ? join(spoolDir, 'upload') : undefined;
      try {
        const { type, digest } = await ingest(storage, key, stream, {
          maxBytes: (t) => Math.min(t.mediaType === 'image' ? limits.imageMaxBytes : limits.audioMaxBytes, by.maxFileSizeBytes ?? Infinity),
          accept: by.accept,
          spoolPath,
        });
        let media: MediaFile;
        try {
          by.verify?.(type, digest);
          const metadata = inspect && spoolPath ? await inspect(spoolPath, type) : {};
          const em = orm.em.fork();
          const now = clock.now();
          media = em.create(MediaFileSchema, {
            id,
            organization: organizationId,
            uploadedByUserId: by.userId ?? null,
            uploadedByApiKeyId: by.apiKeyId ?? null,
            originalFilename: safeFilename(originalFilename, type.extension),
            storedFilename: 'original',
            mimeType: soundOnly(type.mimeType, metadata),
            mediaType: type.mediaType,
            fileSizeBytes: digest.size,
            storagePath: key,
            checksumMd5: digest.md5,
            checksumSha256: digest.sha256,
            status: 'ready',
            thumbnailStatus: type.mediaType === 'image' ? 'pending' : null,
            metadata,
            expiresAt: new Date(now.getTime() + (by.retentionDays ?? limits.retentionDays) * 86_400_000),
          });
          await em.flush();
        } catch (err) {
          await storage.remove(key).catch(() => undefined);
          throw err;
        }
        if (media.mediaType === 'image') await onImageStored?.(media);
        return media;
      } finally {
        if (spoolDir) await rm(spoolDir, { recursive: true, force: true });
      }
    },
  };
}

// A video container that turned out to hold only sound (an `isom`/`mp42`-branded .m4a or .m4b,
// an audio-only .mkv) is recorded as the audio type people expect.
function soundOnly(mimeType: string, metadata: Record<string, unknown>): string {
  if (!mimeType.startsWith('video/') || metadata.has_video !== false) return mimeType;
  return mimeType === 'video/x-matroska' ? 'audio/webm' : 'audio/mp4';
}

export type MediaStore = ReturnType<typeof createMediaStore>;

// Names come from clients: keep them printable, bounded, and never a path.
export function safeFilename(name: string, extension: string): string {
  // eslint-disable-next-line no-control-regex -- stripping control characters is the point
  const base = (name.split(/[\\/]/).pop() ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return (base || `upload.${extension}`).slice(0, 255);
}
