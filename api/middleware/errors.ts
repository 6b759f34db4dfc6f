import type { Logger } from '#lib/logger.js';
import { AppError, InternalError, NotFoundError, ServiceUnavailableError, ValidationError } from '#lib/errors.js';
import { isInfraError } from '#lib/infra-errors.js';
import type { AppMiddleware } from '../handler.js';

/**
 * The outermost middleware: whatever is thrown below becomes the common error format with the
 * request id. Unknown errors are logged and reach the client as a bare INTERNAL_ERROR.
 */
export function errorHandler(logger: Logger): AppMiddleware {
  return async function errorHandler(ctx, next) {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new NotFoundError('Route');
    } catch (err) {
      const error = toAppError(err, ctx.req);
      if (error.status >= 500) {
        logger.error({ err, requestId: ctx.state.requestId, method: ctx.method, path: ctx.path }, 'request failed');
      }
      ctx.status = error.status;
      ctx.set('X-Request-Id', ctx.state.requestId);
      if (error.code === 'SERVICE_UNAVAILABLE') ctx.set('Retry-After', '5');
      if (error.code === 'METHOD_NOT_ALLOWED') ctx.set('Allow', (error.details.allowed as string[]).join(', '));
      ctx.body = {
        error: {
          code: error.code,
          message: error.expose ? error.message : 'Internal server error',
          details: error.expose ? error.details : {},
          request_id: ctx.state.requestId,
        },
      };
    }
  };
}

// Errors thrown by Koa and body parsers carry an HTTP status; client-side ones become 4xx codes.
function toAppError(err: unknown, req: { destroyed: boolean; readableAborted: boolean }): AppError {
  if (err instanceof AppError) return err;
  // The client hung up before its body was read: raw-body finds the request stream gone and says
  // 500, but nothing failed here (a stream read twice, a bug of ours, stays a 500).
  if ((err as { type?: unknown }).type === 'stream.not.readable' && (req.destroyed || req.readableAborted)) {
    return new ValidationError('The request was aborted before its body was received');
  }
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (status === 413) return new ValidationError('Request body too large');
    const message = (err as { expose?: boolean }).expose ? (err as Error).message : 'Malformed request';
    return new ValidationError(message);
  }
  // Postgres, storage or Temporal down or restarting: the request may succeed in a moment.
  if (isInfraError(err)) return new ServiceUnavailableError('A service the API depends on is unavailable; try again shortly');
  return new InternalError();
}
