// One error hierarchy mirroring the spec's Error schema. `expose` says whether the message may reach a client.
export type ErrorCode =
  | 'VALIDATION_ERROR'
  | 'INVALID_FILE_TYPE'
  | 'FILE_TOO_LARGE'
  | 'INVALID_ACTION'
  | 'UNAUTHORIZED'
  | 'TOKEN_EXPIRED'
  | 'INVALID_API_KEY'
  | 'FORBIDDEN'
  | 'LIMIT_EXCEEDED'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'CONFLICT'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'RATE_LIMITED'
  | 'QUOTA_EXCEEDED'
  | 'INTERNAL_ERROR'
  | 'AI_PROVIDER_ERROR'
  | 'SERVICE_UNAVAILABLE';

export type ErrorDetails = Record<string, unknown>;

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
    readonly expose = status < 500,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(400, 'VALIDATION_ERROR', message, details);
  }
}
export class InvalidFileTypeError extends AppError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(400, 'INVALID_FILE_TYPE', message, details);
  }
}
export class FileTooLargeError extends AppError {
  constructor(maxBytes: number) {
    super(400, 'FILE_TOO_LARGE', `File exceeds the maximum allowed size (${Math.round(maxBytes / 1048576)} MB)`, {
      field: 'file',
      max_size_bytes: maxBytes,
    });
  }
}
export class InvalidActionError extends AppError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(400, 'INVALID_ACTION', message, details);
  }
}
export class NotFoundError extends AppError {
  constructor(resource: string, id?: string) {
    super(404, 'NOT_FOUND', `${resource} not found`, id === undefined ? {} : { resource, id });
  }
}
export class MethodNotAllowedError extends AppError {
  constructor(allowed: string[]) {
    super(405, 'METHOD_NOT_ALLOWED', 'Method not allowed', { allowed });
  }
}
export class ConflictError extends AppError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(409, 'CONFLICT', message, details);
  }
}
/** An Idempotency-Key sent again with a different request: the client has a bug, retrying cannot help. */
export class IdempotencyKeyReusedError extends AppError {
  constructor(key: string) {
    super(422, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for a different request', { idempotency_key: key });
  }
}
export class ServiceUnavailableError extends AppError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(503, 'SERVICE_UNAVAILABLE', message, details, true);
  }
}
export class InternalError extends AppError {
  constructor() {
    super(500, 'INTERNAL_ERROR', 'Internal server error', {}, true);
  }
}
export class UnauthorizedError extends AppError {
  constructor(message = 'Missing or invalid credentials') {
    super(401, 'UNAUTHORIZED', message);
  }
}
export class TokenExpiredError extends AppError {
  constructor(message = 'The token has expired') {
    super(401, 'TOKEN_EXPIRED', message);
  }
}
export class InvalidApiKeyError extends AppError {
  constructor(message = 'API key not found, expired or revoked') {
    super(401, 'INVALID_API_KEY', message);
  }
}
export class ForbiddenError extends AppError {
  constructor(message = 'Insufficient permissions', details: ErrorDetails = {}) {
    super(403, 'FORBIDDEN', message, details);
  }
}
export class LimitExceededError extends AppError {
  constructor(limit: string, max: number, details: ErrorDetails = {}) {
    super(403, 'LIMIT_EXCEEDED', `Organization limit reached: ${limit}`, { limit, max, ...details });
  }
}
/** 429s carry how long to wait; the rate-limit middleware turns it into Retry-After. */
export class RateLimitedError extends AppError {
  constructor(readonly retryAfterSeconds: number, details: ErrorDetails = {}, message = 'Too many requests') {
    super(429, 'RATE_LIMITED', message, { retry_after_seconds: retryAfterSeconds, ...details });
  }
}
export class QuotaExceededError extends AppError {
  constructor(quota: string, limit: number, readonly retryAfterSeconds?: number) {
    super(429, 'QUOTA_EXCEEDED', `Usage quota exceeded: ${quota}`, { quota, limit, ...(retryAfterSeconds ? { retry_after_seconds: retryAfterSeconds } : {}) });
  }
}
