/*
 * Which errors come from the infrastructure (object storage, Postgres, Temporal, the network
 * between them) rather than from the work itself: the one place that decides it. Such an error says
 * nothing about the input or the action; the same call succeeds once the dependency is back, so
 * callers retry it with the infrastructure's own policy (INFRA_RETRY_*) instead of spending the
 * action's attempts on it.
 */

// Socket-level failures: the peer is down, restarting or unreachable.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

// Postgres SQLSTATEs: connection exceptions (08), shutdown/startup (57P0x), too many connections,
// serialization failures and deadlocks (retrying the transaction is the documented remedy).
const POSTGRES_CODES = new Set(['08000', '08001', '08003', '08004', '08006', '08007', '57P01', '57P02', '57P03', '53300', '40001', '40P01']);

// S3 error codes (the AWS SDK names them in `name`; MinIO adds its own) that mean "the service, not the request".
const S3_NAMES = new Set([
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
  'RequestTimeout',
  'ThrottlingException',
  'TimeoutError',
  'XMinioServerNotInitialized',
  'XMinioReadQuorum',
  'XMinioWriteQuorum',
]);

// Driver and client class names that only ever stand for a lost or refused connection.
const NAMES = new Set(['ConnectionException', 'DeadlockException', 'LockWaitTimeoutException', 'KnexTimeoutError', 'TransportError', 'ConnectionError']);

const MESSAGES = [
  /connection terminated/i,
  /connection (?:is )?(?:closed|lost|reset)/i,
  /client has encountered a connection error/i,
  /timeout exceeded when trying to connect/i,
  /terminating connection due to administrator command/i,
  /the database system is (?:starting up|shutting down|in recovery mode)/i,
  /socket hang up/i,
  /\b(?:ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE)\b/,
  /\btransport error\b/i,
  /\bUNAVAILABLE:/,
];

// gRPC status codes of the Temporal client: UNAVAILABLE (14), DEADLINE_EXCEEDED (4), RESOURCE_EXHAUSTED (8).
const GRPC_CODES = new Set([4, 8, 14]);

type Inspectable = { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; errors?: unknown; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };

/** Whether `err` (or anything in its cause chain) is an infrastructure failure worth retrying. */
export function isInfraError(err: unknown): boolean {
  const seen = new Set<unknown>();
  const visit = (e: unknown, depth: number): boolean => {
    if (!e || typeof e !== 'object' || seen.has(e) || depth > 8) return false;
    seen.add(e);
    const x = e as Inspectable;
    if (typeof x.code === 'string' && (NETWORK_CODES.has(x.code) || POSTGRES_CODES.has(x.code) || S3_NAMES.has(x.code))) return true;
    if (typeof x.code === 'number' && GRPC_CODES.has(x.code) && x.name !== 'ApplicationFailure') return true;
    if (typeof x.name === 'string' && (NAMES.has(x.name) || S3_NAMES.has(x.name))) return true;
    const status = x.$metadata?.httpStatusCode;
    if (typeof status === 'number' && (status >= 500 || status === 429)) return true;
    if (x.$retryable) return true;
    if (typeof x.message === 'string' && MESSAGES.some((m) => m.test(x.message as string))) return true;
    // AggregateError (happy eyeballs tries every address) and wrapped causes.
    if (Array.isArray(x.errors) && x.errors.some((inner) => visit(inner, depth + 1))) return true;
    return visit(x.cause, depth + 1);
  };
  return visit(err, 0);
}

/** A short, secret-free description for logs and the job's error message. */
export function describeInfraError(err: unknown): string {
  const x = (err ?? {}) as Inspectable;
  const code = typeof x.code === 'string' || typeof x.code === 'number' ? ` (${String(x.code)})` : '';
  const message = typeof x.message === 'string' ? x.message : String(err);
  // Connection strings may carry a password: keep only what follows the last '@'.
  return `${message.replace(/\/\/[^/@\s]*@/g, '//')}${code}`.slice(0, 300);
}

export interface InfraRetryPolicy {
  initialIntervalMs: number;
  maximumIntervalMs: number;
  /** How long an outage may last before the caller gives up. */
  giveUpAfterMs: number;
}

/** The delay before retry `n` (0-based): exponential, capped, with full jitter in its upper half. */
export function infraBackoffMs(policy: Pick<InfraRetryPolicy, 'initialIntervalMs' | 'maximumIntervalMs'>, n: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maximumIntervalMs, policy.initialIntervalMs * 2 ** Math.min(n, 30));
  return Math.round(base / 2 + (random() * base) / 2);
}

/**
 * Runs `fn`, retrying infrastructure failures with backoff until `giveUpAfterMs` has passed (then
 * the last error is thrown); any other error is thrown at once. `onRetry` sees every retried error.
 */
export async function withInfraRetry<T>(
  policy: InfraRetryPolicy,
  fn: () => Promise<T>,
  opts: { signal?: AbortSignal; onRetry?: (err: unknown, delayMs: number) => void } = {},
): Promise<T> {
  const started = Date.now();
  for (let n = 0; ; n++) {
    try {
      return await fn();
    } catch (err) {
      if (!isInfraError(err) || opts.signal?.aborted) throw err;
      const delay = infraBackoffMs(policy, n);
      if (Date.now() + delay - started > policy.giveUpAfterMs) throw err;
      opts.onRetry?.(err, delay);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        opts.signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
      if (opts.signal?.aborted) throw err;
    }
  }
}
