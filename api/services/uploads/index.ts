import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { Transform } from 'node:stream';
import { UploadSessionSchema } from '#entities/index.js';
import { AppError, ConflictError } from '#lib/errors.js';
import type { Principal } from '../../auth/principal.js';
import type { ApiDeps } from '../../deps.js';
import type { JobService } from '../job-service.js';
import type { MediaFileRow, MediaService } from '../media-service.js';
import type { QuotaService } from '../quota-service.js';
import { createChunkedUploads } from './chunked.js';
import { createUploadEventHub } from './events.js';
import { progressMeter } from './progress.js';
import { createUploadSessions } from './sessions.js';
import { createTempStore } from './temp-store.js';
import { createTusUploads } from './tus.js';

export { cleanUpExpiredUploads, scheduleUploadCleanup } from './cleanup.js';

/** Resumable uploads (tus, chunked), and progress of any upload as Server-Sent Events. */
export function createUploadServices(deps: ApiDeps, media: MediaService, jobs: JobService, quotas: QuotaService) {
  const temp = createTempStore(deps.config.s3);
  const sessions = createUploadSessions(deps, media, quotas);
  const hub = createUploadEventHub(deps.orm, sessions);
  return {
    sessions,
    temp,
    tus: createTusUploads(deps, sessions, temp),
    chunked: createChunkedUploads(deps, sessions, temp, jobs, quotas),
    events: (organizationId: string, id: string, signal: AbortSignal) => hub.open(organizationId, id, signal),
    close: () => hub.close(),

    /**
     * Follows a plain multipart upload sent with `X-Upload-Id`: returns the meter to stream the
     * file through and what to call when it ends.
     */
    async followMultipart(principal: Principal, id: string, totalBytes: number | undefined) {
      try {
        await sessions.create(principal, { id, kind: 'multipart', filename: 'upload', totalBytes: totalBytes ?? null });
      } catch (err) {
        if (err instanceof UniqueConstraintViolationException) throw new ConflictError('X-Upload-Id is already in use; send a new random id', { field: 'x-upload-id' });
        throw err;
      }
      const meter: Transform = progressMeter((bytes) => sessions.progress(id, bytes));
      const em = deps.orm.em.fork();
      return {
        meter,
        done: (file: MediaFileRow) =>
          em.nativeUpdate(UploadSessionSchema, { id }, { status: 'completed', mediaId: file.id, filename: file.originalFilename, bytesReceived: file.fileSizeBytes, totalBytes: file.fileSizeBytes }),
        failed: (err: unknown) =>
          sessions.fail(id, err instanceof AppError && err.expose ? err : new AppError(500, 'INTERNAL_ERROR', 'the upload could not be stored')),
      };
    },
  };
}
export type UploadServices = ReturnType<typeof createUploadServices>;
