import type { Readable } from 'node:stream';
import type { EntityManager } from '@mikro-orm/postgresql';
import { MediaFileSchema, UploadChunkSchema, UploadSessionSchema, type UploadKind, type UploadSession } from '#entities/index.js';
import { AppError, ConflictError, NotFoundError } from '#lib/errors.js';
import type { Principal } from '../../auth/principal.js';
import type { ApiDeps } from '../../deps.js';
import type { MediaFileRow, MediaService } from '../media-service.js';
import type { QuotaService } from '../quota-service.js';

export type UploadSessionRow = UploadSession;

export interface NewSession {
  id: string;
  kind: UploadKind;
  filename: string;
  totalBytes?: number | null;
  chunkSize?: number;
  totalChunks?: number;
  sha256?: string;
  storageKey?: string;
  multipartUploadId?: string;
}

/**
 * Upload sessions in Postgres: who owns an upload (never taken from client metadata), how far it
 * got (visible to every API instance), and the media file it became. Every lookup is scoped to
 * the caller's organization.
 */
export function createUploadSessions(deps: ApiDeps, media: MediaService, quotas: QuotaService) {
  const { orm, config, clock, storage } = deps;
  const largestMediaLimit = Math.max(config.media.image.maxFileSizeBytes, config.media.audio.maxFileSizeBytes);
  const maxBytes = async (organizationId: string): Promise<number> => {
    const { maxFileSizeBytes } = await quotas.limits(organizationId);
    return Math.min(config.uploads.maxBytes || largestMediaLimit, maxFileSizeBytes ?? Infinity);
  };
  async function insert(em: EntityManager, principal: Principal, s: NewSession): Promise<UploadSessionRow> {
    const row = em.create(UploadSessionSchema, {
      id: s.id,
      organization: principal.organizationId,
      userId: principal.userId ?? null,
      apiKeyId: principal.apiKeyId ?? null,
      kind: s.kind,
      filename: s.filename.slice(0, 255),
      totalBytes: s.totalBytes ?? null,
      bytesReceived: 0,
      chunkSize: s.chunkSize ?? null,
      totalChunks: s.totalChunks ?? null,
      sha256: s.sha256 ?? null,
      storageKey: s.storageKey ?? null,
      multipartUploadId: s.multipartUploadId ?? null,
      status: 'receiving',
      expiresAt: new Date(clock.now().getTime() + config.uploads.expiryMs),
    });
    await em.flush();
    return row;
  }

  return {
    /** The largest size the organization may declare for an upload (refused early, before any byte). */
    maxBytes,

    /**
     * Records a started upload. Its declared size (a deferred tus length: the most it may grow to)
     * is reserved against the storage quota in the same transaction; a followed multipart upload,
     * whose size is only advisory, is refused only once the quota is reached.
     */
    async create(principal: Principal, s: NewSession): Promise<UploadSessionRow> {
      const open = await maxBytes(principal.organizationId);
      const reserved = s.kind === 'multipart' ? 0 : (s.totalBytes ?? open);
      return quotas.reserve(principal.organizationId, reserved, open, (em) => insert(em, principal, s));
    },

    /** An upload of the organization; 404 for anyone else's (and for expired ones). */
    async get(organizationId: string, id: string, kind?: UploadKind): Promise<UploadSessionRow> {
      const row = await orm.em.fork().findOne(UploadSessionSchema, { id, organization: organizationId, ...(kind ? { kind } : {}) });
      if (!row || row.status === 'expired') throw new NotFoundError('Upload', id);
      return row;
    },

    /** Any organization's upload, for hooks that already hold a verified upload id. */
    find: (id: string) => orm.em.fork().findOne(UploadSessionSchema, { id }),

    async progress(id: string, bytesReceived: number): Promise<void> {
      await orm.em.fork().nativeUpdate(UploadSessionSchema, { id, status: 'receiving' }, { bytesReceived });
    },

    /** Claims a receiving upload for finalization: only one request wins. */
    async claim(session: UploadSessionRow): Promise<void> {
      const n = await orm.em.fork().nativeUpdate(UploadSessionSchema, { id: session.id, status: 'receiving' }, { status: 'finalizing' });
      if (n !== 1) throw new ConflictError('This upload is already being finalized or has finished', { upload_id: session.id });
    },

    /**
     * Streams the assembled upload through the ordinary media path (type sniffed, hashed, limits
     * enforced, stored via storage.put), then records the result on the session. On failure the
     * session is failed with the error, and nothing of the media is left.
     */
    async toMedia(session: UploadSessionRow, body: Readable, expectSha256?: string | null): Promise<MediaFileRow> {
      const em = orm.em.fork();
      try {
        // The upload's bytes were reserved against the storage quota when it started.
        const limits = await quotas.limits(session.organization.id);
        const file = await media.upload(session.organization.id, body, session.filename, {
          userId: session.userId ?? undefined,
          apiKeyId: session.apiKeyId ?? undefined,
          ...limits,
        });
        if (expectSha256 && file.checksumSha256 !== expectSha256) {
          await em.nativeDelete(MediaFileSchema, { id: file.id });
          await storage.remove(file.storagePath).catch(() => undefined);
          throw new AppError(400, 'VALIDATION_ERROR', 'The assembled file does not match the declared SHA-256', {
            expected_sha256: expectSha256,
            actual_sha256: file.checksumSha256,
          });
        }
        await em.nativeUpdate(UploadSessionSchema, { id: session.id }, { status: 'completed', mediaId: file.id, bytesReceived: file.fileSizeBytes });
        return file;
      } catch (err) {
        body.destroy();
        const e = err instanceof AppError && err.expose ? err : undefined;
        await em.nativeUpdate(
          UploadSessionSchema,
          { id: session.id },
          { status: 'failed', errorCode: e?.code ?? 'INTERNAL_ERROR', errorMessage: e?.message ?? 'the upload could not be stored' },
        );
        throw err;
      } finally {
        await em.nativeDelete(UploadChunkSchema, { session: session.id });
      }
    },

    async fail(id: string, err: AppError): Promise<void> {
      await orm.em.fork().nativeUpdate(UploadSessionSchema, { id }, { status: 'failed', errorCode: err.code, errorMessage: err.message });
    },

    async remove(id: string): Promise<void> {
      await orm.em.fork().nativeDelete(UploadSessionSchema, { id });
    },
  };
}
export type UploadSessions = ReturnType<typeof createUploadSessions>;
