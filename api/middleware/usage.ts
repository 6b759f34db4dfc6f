import type { UsageActionType } from '#entities/index.js';
import type { Logger } from '#lib/logger.js';
import type { AppMiddleware } from '../handler.js';
import type { RequestUsage } from '../services/usage-service.js';

const DOWNLOADS = new Set(['downloadMedia', 'getMediaThumbnail', 'getJobResult', 'getJobArtifact', 'downloadSharedMedia']);

/**
 * Records one usage row per authenticated request once its response has been sent (so streamed
 * downloads count their real duration). The write is fire-and-forget: a failure is logged and never
 * reaches the client. Requests without an organization (anonymous, refused credentials) are not metered.
 */
export function usage(record: (u: RequestUsage) => Promise<void>, logger: Logger): AppMiddleware {
  return async function usage(ctx, next) {
    const started = performance.now();
    const bytesIn = Number(ctx.get('content-length')) || 0;
    ctx.res.once('close', () => {
      const principal = ctx.state.principal;
      if (!principal) return;
      const operationId = (ctx as unknown as { _matchedRouteName?: string })._matchedRouteName;
      const endpoint = (ctx as unknown as { _matchedRoute?: string })._matchedRoute ?? ctx.path;
      const actionType: UsageActionType =
        operationId === 'uploadMedia' || operationId === 'uploadAndProcess' ? 'UPLOAD' : operationId && DOWNLOADS.has(operationId) ? 'DOWNLOAD' : 'API_CALL';
      const uploaded =
        operationId === 'uploadMedia' && ctx.status === 201
          ? (ctx.body as { file_size_bytes?: number; media_type?: string })
          : operationId === 'uploadAndProcess' && ctx.status === 202
            ? (ctx.body as { media?: { file_size_bytes?: number; media_type?: string } }).media
            : undefined;
      const u: RequestUsage = {
        organizationId: principal.organizationId,
        userId: principal.userId,
        apiKeyId: principal.apiKeyId,
        actionType,
        endpoint: String(endpoint),
        method: ctx.method,
        status: ctx.status,
        ip: ctx.ip,
        userAgent: ctx.get('user-agent') || undefined,
        bytesIn,
        // Streams that were cut short count what was announced; good enough for metering.
        bytesOut: Number(ctx.res.getHeader('content-length')) || 0,
        durationMs: performance.now() - started,
        fileSizeBytes: uploaded?.file_size_bytes,
        mediaType: uploaded?.media_type,
      };
      record(u).catch((err: unknown) => logger.error({ err, requestId: ctx.state.requestId }, 'could not record request usage'));
    });
    await next();
  };
}
