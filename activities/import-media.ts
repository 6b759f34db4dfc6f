import type { Readable } from 'node:stream';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { MediaFileSchema, MediaImportSchema } from '#entities/index.js';
import { AppError, InvalidFileTypeError } from '#lib/errors.js';
import { createAddressPolicy } from '#lib/net/address-policy.js';
import { BlockedAddressError, RequestFailedError, safeRequest, type SafeResponse } from '#lib/net/safe-request.js';
import type { MediaInspector } from '#domain/media/inspect.js';
import { createMediaStore } from '#domain/media/media-store.js';
import { startThumbnail } from '#domain/thumbnails.js';
import type { ImportMediaInput } from '#workflows/import-media.js';
import type { ProviderKeys } from '#workflows/types.js';
import type { ActivityDeps } from './deps.js';

/** What URL imports need beyond the common activity deps (the worker builds it from configuration). */
export interface ImportDeps {
  maxBytes: number;
  maxRedirects: number;
  /** CIDRs exempt from the private/loopback/link-local deny list (IMPORT_ALLOWED_CIDRS). */
  allowedCidrs: string[];
  mediaLimits: { imageMaxBytes: number; audioMaxBytes: number };
  /** The upload's inspection (dimensions, duration), so an import meets the same limits at the door. */
  inspect?: MediaInspector;
  /** Submits a job exactly as POST /api/v1/process does, through the given Temporal client. */
  submitJob(
    temporal: Client,
    organizationId: string,
    req: { userId?: string; apiKeyId?: string; mediaId: string; actionId: string; parameters: Record<string, unknown>; providerKeys?: ProviderKeys },
  ): Promise<{ id: string }>;
}

/**
 * The activities of the importMedia workflow. The download goes through safeRequest (every hop's
 * address checked, and the peer actually connected to), then through the same media path as
 * uploads: magic-byte type, hashes, size limits, storage.put.
 */
export function createImportActivities(deps: ActivityDeps) {
  const settings = (): ImportDeps => {
    if (!deps.imports) throw ApplicationFailure.nonRetryable('URL imports are not configured on this worker', 'IMPORT_FAILED');
    return deps.imports;
  };

  return {
    async markImportRunning(importId: string): Promise<void> {
      await deps.orm.em.fork().nativeUpdate(MediaImportSchema, { id: importId, status: 'pending' }, { status: 'running' });
    },

    async fetchImport(input: ImportMediaInput): Promise<{ mediaId: string }> {
      const imports = settings();
      // A retry after the file was recorded finds it: the media id is the import's.
      const existing = await deps.orm.em.fork().findOne(MediaFileSchema, { id: input.importId });
      if (existing) return { mediaId: existing.id };

      const ctx = Context.current();
      const deadline = AbortSignal.timeout(input.timeoutMs);
      const signal = AbortSignal.any([deadline, ctx.cancellationSignal]);
      let res: SafeResponse | undefined;
      try {
        res = await safeRequest(input.url, {
          policy: createAddressPolicy(imports.allowedCidrs),
          maxRedirects: imports.maxRedirects,
          timeoutMs: input.timeoutMs,
          signal,
          headers: { 'user-agent': 'Mediaflow-Import/1', accept: '*/*' },
        });
        const cap = Math.min(imports.maxBytes, input.maxFileSizeBytes ?? Infinity);
        checkResponse(res, cap);
        const store = createMediaStore({
          orm: deps.orm,
          storage: deps.storage,
          clock: deps.clock,
          limits: { ...imports.mediaLimits, retentionDays: input.retentionDays },
          inspect: imports.inspect,
          // The worker's own client: the thumbnail runs on the queue this import runs on.
          onImageStored: (m) =>
            startThumbnail(ctx.client, ctx.info.taskQueue, { mediaId: m.id, organizationId: m.organization.id }).then(
              () => undefined,
              (err: unknown) => deps.logger.warn({ err, mediaId: m.id }, 'thumbnail not started; it starts when first requested'),
            ),
        });
        const media = await store.store(input.organizationId, res.body as Readable, input.filename ?? nameFromUrl(res.url), {
          id: input.importId,
          userId: input.userId,
          apiKeyId: input.apiKeyId,
          maxFileSizeBytes: cap,
          retentionDays: input.retentionDays,
          accept: (type) => {
            if (input.expectMediaType && type.mediaType !== input.expectMediaType) {
              throw new InvalidFileTypeError(`The file is ${type.mediaType} (${type.mimeType}); the requested action needs ${input.expectMediaType}`);
            }
          },
        });
        return { mediaId: media.id };
      } catch (err) {
        throw asFailure(err, deadline.aborted, input.timeoutMs, deps);
      } finally {
        res?.body.destroy();
      }
    },

    /** `providerKeys`: the import request's own keys, for the job only. */
    async submitImportJob(importId: string, providerKeys?: ProviderKeys): Promise<string | null> {
      const em = deps.orm.em.fork();
      const record = await em.findOneOrFail(MediaImportSchema, { id: importId });
      if (!record.process) return null;
      if (record.jobId) return record.jobId;
      try {
        const job = await settings().submitJob(Context.current().client, record.organization.id, {
          userId: record.userId ?? undefined,
          apiKeyId: record.apiKeyId ?? undefined,
          mediaId: importId,
          actionId: record.process.action_id,
          parameters: record.process.parameters ?? {},
          ...(providerKeys ? { providerKeys } : {}),
        });
        await em.nativeUpdate(MediaImportSchema, { id: importId }, { jobId: job.id });
        return job.id;
      } catch (err) {
        if (err instanceof AppError && err.status < 500) throw ApplicationFailure.nonRetryable(err.message, err.code);
        throw err;
      }
    },

    async completeImport(importId: string, outcome: { mediaId: string; jobId?: string }): Promise<void> {
      await deps.orm.em
        .fork()
        .nativeUpdate(
          MediaImportSchema,
          { id: importId, status: { $in: ['pending', 'running'] } },
          { status: 'completed', mediaId: outcome.mediaId, jobId: outcome.jobId ?? null, completedAt: deps.clock.now() },
        );
    },

    async failImport(importId: string, error: { code: string; message: string; mediaId?: string }): Promise<void> {
      await deps.orm.em.fork().nativeUpdate(
        MediaImportSchema,
        { id: importId, status: { $in: ['pending', 'running'] } },
        {
          status: 'failed',
          errorCode: error.code.slice(0, 50),
          errorMessage: error.message.slice(0, 2000),
          mediaId: error.mediaId ?? null,
          completedAt: deps.clock.now(),
        },
      );
    },
  };
}

function checkResponse(res: SafeResponse, cap: number): void {
  if (res.status >= 300 && res.status < 400) {
    throw ApplicationFailure.nonRetryable(`the server still redirects after the allowed number of redirects`, 'TOO_MANY_REDIRECTS');
  }
  if (res.status >= 500) throw ApplicationFailure.retryable(`the server answered ${res.status}`, 'IMPORT_UPSTREAM_ERROR');
  if (res.status >= 400 || res.status < 200) throw ApplicationFailure.nonRetryable(`the server answered ${res.status}`, 'IMPORT_HTTP_ERROR');
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > cap) {
    throw ApplicationFailure.nonRetryable(`the file is ${declared} bytes; at most ${cap} may be imported`, 'FILE_TOO_LARGE');
  }
}

/**
 * What the import's record (and so the tenant) is told. Messages of errors that are not ours could
 * name an internal address (the storage's, a resolved one): they are logged and replaced.
 */
function asFailure(err: unknown, timedOut: boolean, timeoutMs: number, deps: ActivityDeps): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof BlockedAddressError) return ApplicationFailure.nonRetryable(err.message, 'BLOCKED_ADDRESS');
  if (timedOut) return ApplicationFailure.nonRetryable(`the download did not finish within ${timeoutMs} ms`, 'IMPORT_TIMEOUT');
  if (err instanceof AppError && err.status < 500) return ApplicationFailure.nonRetryable(err.message, err.code);
  if (err instanceof RequestFailedError) return ApplicationFailure.retryable(err.message, 'IMPORT_FAILED');
  deps.logger.warn({ err }, 'URL import attempt failed');
  return ApplicationFailure.retryable('the file could not be downloaded and stored', 'IMPORT_FAILED');
}

function nameFromUrl(url: string): string {
  try {
    const last = new URL(url).pathname.split('/').filter(Boolean).pop();
    return last ? decodeURIComponent(last) : 'import';
  } catch {
    return 'import';
  }
}
