import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import type { InfraRetryPolicy } from './infra-errors.js';
import { parseKeyring, type MasterKey } from './keyring.js';

// The one place that reads the environment. Every bad variable is reported at once.
export interface Config {
  env: 'development' | 'production' | 'test';
  http: {
    host: string;
    port: number;
    /**
     * Where /metrics and the health checks are answered (OPS_PORT; 0, the default: on PORT with
     * everything else). When set, PORT no longer answers them, so only what reaches this port —
     * probes, Prometheus — sees them; the Helm chart routes its Ingress to PORT only.
     */
    opsPort: number;
    publicUrl: string;
    bodyLimitKb: number;
    /**
     * Reverse proxies in front of the API (TRUSTED_PROXY_COUNT, default 0): the client's address is
     * the one this many hops from the right of X-Forwarded-For, the last hop a proxy of ours saw.
     * 0: the socket's peer, and X-Forwarded-* are ignored — anything further left is the client's
     * own say, so trusting it lets anyone pick the address rate limits and lockouts count by.
     */
    trustedProxyCount: number;
    shutdownGraceMs: number;
    /** Browser origins besides the API's own that may call it (CORS_ALLOWED_ORIGINS); none by default. */
    corsAllowedOrigins: string[];
  };
  /** The web console's built files (CONSOLE_DIR, default web/dist); served at / when present. */
  console: { dir: string; enabled: boolean };
  logLevel: string;
  telemetry: { serviceName: string; otlpTracesEndpoint?: string; workerMetricsPort: number; temporalMetricsBind?: string };
  database: { url: string; poolMax: number };
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    workflowBundlePath?: string;
    // TLS (mTLS when cert+key are given) and the Temporal Cloud API key: see lib/temporal-connection.ts.
    tls: boolean;
    tlsCaPath?: string;
    tlsCertPath?: string;
    tlsKeyPath?: string;
    apiKey?: string;
    /** Payload codec keyring (TEMPORAL_CODEC_KEYS, first = primary): see lib/payload-codec.ts. */
    codecKeys: MasterKey[];
    /** Origins (the Temporal Web UI) allowed to call the codec endpoint from a browser. */
    codecCorsOrigins: string[];
  };
  worker: { tmpDir: string; maxConcurrentActivities: number };
  s3: {
    endpoint: URL;
    accessKey: string;
    secretKey: string;
    bucket: string;
    region: string;
    partSizeBytes: number;
    /** Master keyring wrapping each object's data key (STORAGE_MASTER_KEYS, first = primary): see lib/envelope.ts. */
    masterKeys: MasterKey[];
    /** Refuse objects stored without encryption instead of reading them as plaintext (written before encryption existed). */
    requireEncryption: boolean;
  };
  media: {
    image: { maxFileSizeBytes: number; maxResolution: number; thumbnail: { width: number; height: number; quality: number } };
    audio: { maxFileSizeBytes: number; maxDurationMinutes: number };
    /** Largest voice sample a speaker profile takes (SPEAKER_SAMPLE_MAX_MB). */
    speakerSampleMaxBytes: number;
    retentionDays: number;
  };
  /**
   * How failures of storage, Postgres, Temporal or the network between them are retried, apart from
   * an action's own attempts (INFRA_RETRY_INITIAL_MS, INFRA_RETRY_MAX_INTERVAL_MS, INFRA_RETRY_FOR):
   * a job step waits this long for an outage to end before it fails with INFRASTRUCTURE_UNAVAILABLE.
   */
  infraRetry: InfraRetryPolicy;
  /** The Temporal Schedule that deletes expired media (created by the worker at start-up). */
  retention: { scheduleId: string; sweepIntervalSeconds: number; batchSize: number };
  /** Pipelines, cancel, retry, queue routing and reconciliation of jobs (see lifecycleConfig). */
  lifecycle: LifecycleConfig;
  auth: AuthConfig;
  rateLimits: RateLimitConfig;
  /** Request usage rows are written in batches at most this often (USAGE_FLUSH_INTERVAL_MS) and at shutdown. */
  metering: { flushIntervalMs: number; maxBatch: number };
  /** Quotas of an organization whose settings.quotas do not say otherwise (0 = unlimited). */
  organizationDefaults: OrganizationDefaults;
  ai: AiConfig;
  /** actions.enabled of the product config: undefined means every discovered action. */
  actions: { enabled?: string[] };
  /** Resumable uploads (tus, chunked): see api/services/uploads/. */
  uploads: {
    /** Largest declared size accepted (UPLOAD_MAX_SIZE_MB; 0: the largest media type limit, which still applies once the type is known). */
    maxBytes: number;
    /** Incomplete uploads expire this long after creation, and their parts are removed. */
    expiryMs: number;
    /** How often the API removes expired uploads (0: never; run cleanUpExpiredUploads elsewhere). */
    cleanupIntervalMs: number;
  };
  /** Direct (presigned) uploads, URL imports, and signed download links. */
  intake: IntakeConfig;
  /** Bounds on what one client can make an API instance or a worker hold (see resourceConfig). */
  resources: ResourceConfig;
  webhooks: WebhookConfig;
}

/** Outbound webhook deliveries (see lib/webhooks). */
export interface WebhookConfig {
  /** Encrypts endpoint signing secrets at rest (AES-256-GCM, key derived from this); '' in production when unset. */
  secretKey: string;
  /** CIDRs exempt from the private/loopback/link-local deny list (WEBHOOK_ALLOWED_CIDRS); empty by default. */
  allowedCidrs: string[];
  /** Per attempt, until the response is read. */
  timeoutMs: number;
  /** Exponential backoff (coefficient 2) from initialIntervalMs up to maximumIntervalMs, given up after giveUpAfterMs. */
  retry: { initialIntervalMs: number; maximumIntervalMs: number; giveUpAfterMs: number };
}

export type AiProviderName = 'openai' | 'anthropic' | 'tesseract' | 'local';
/** AI providers. Keys come from here only and must never be logged. */
export interface AiConfig {
  openai: {
    apiKey?: string;
    baseUrl: string;
    visionModel: string;
    transcribeModel: string;
    chatModel: string;
    /** Largest audio file the transcription endpoints accept; longer audio is cut into pieces below it. */
    maxAudioBytes: number;
  };
  anthropic: { apiKey?: string; baseUrl: string; model: string };
  tesseract: { command: string };
  /**
   * Local speech recognition (PocketSphinx, US English): the decoder's command, its model files
   * (empty: the package's defaults) and the longest piece one decoder run is given; longer audio is
   * cut at silences and the pieces run in parallel.
   */
  local: { command: string; hmm: string; lm: string; dict: string; maxPieceSeconds: number };
  /**
   * AI_PROVIDER_MAPPING's `action=provider` entries: they override the provider each action declares
   * as its default (the action definition's `ai.provider`). Empty unless set.
   */
  providerMapping: Record<string, AiProviderName>;
  /** Per provider request; the activity's own timeout bounds the whole action. */
  requestTimeoutMs: number;
  /** Keyring encrypting organizations' stored provider keys (PROVIDER_KEYS_MASTER_KEYS, first = primary); used by the API only. */
  providerKeysMasterKeys: MasterKey[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const str = (name: string, fallback: string): string => {
    const v = env[name];
    return v === undefined || v === '' ? fallback : v;
  };
  const int = (name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
      return fallback;
    }
    return n;
  };
  const url = (name: string, fallback: string): URL => {
    const raw = str(name, fallback);
    try {
      return new URL(raw);
    } catch {
      problems.push(`${name} must be a URL (got "${raw}")`);
      return new URL(fallback);
    }
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const raw = str(name, fallback);
    if (!(allowed as readonly string[]).includes(raw)) {
      problems.push(`${name} must be one of ${allowed.join(', ')} (got "${raw}")`);
      return fallback;
    }
    return raw as T;
  };

  const port = int('PORT', 3000, 0, 65535);
  const opsPortNumber = int('OPS_PORT', 0, 0, 65535);
  if (opsPortNumber > 0 && opsPortNumber === port) problems.push('OPS_PORT must differ from PORT (or be 0 to answer /metrics and health on PORT)');
  const databaseUrl = str('DATABASE_URL', 'postgresql://postgres@127.0.0.1:5432/mediaflow');
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) problems.push('DATABASE_URL must be a postgresql:// URL');
  // Its "true" trusted every X-Forwarded-For hop; say so instead of silently counting by the socket.
  if (env.TRUST_PROXY) problems.push('TRUST_PROXY is replaced by TRUSTED_PROXY_COUNT: the number of reverse proxies in front of the API (0 when none)');
  const mb = 1024 * 1024;

  const config: Config = {
    env: oneOf('NODE_ENV', ['development', 'production', 'test'] as const, 'development'),
    http: {
      // Loopback unless told otherwise: the production image and chart set HOST=0.0.0.0 themselves.
      host: str('HOST', '127.0.0.1'),
      port,
      opsPort: opsPortNumber,
      publicUrl: str('API_BASE_URL', `http://localhost:${port}`).replace(/\/$/, ''),
      bodyLimitKb: int('JSON_BODY_LIMIT_KB', 1024, 1),
      trustedProxyCount: int('TRUSTED_PROXY_COUNT', 0, 0, 10),
      shutdownGraceMs: int('SHUTDOWN_GRACE_MS', 25_000, 0),
      corsAllowedOrigins: corsOrigins(str('CORS_ALLOWED_ORIGINS', ''), problems),
    },
    console: {
      dir: resolve(str('CONSOLE_DIR', 'web/dist')),
      enabled: oneOf('CONSOLE_ENABLED', ['true', 'false'] as const, 'true') === 'true',
    },
    logLevel: oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    telemetry: {
      serviceName: str('OTEL_SERVICE_NAME', 'mediaflow'),
      // Standard OTel variables: the traces endpoint wins over the generic one.
      otlpTracesEndpoint:
        env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ||
        (env.OTEL_EXPORTER_OTLP_ENDPOINT ? `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, '')}/v1/traces` : undefined),
      workerMetricsPort: int('WORKER_METRICS_PORT', 9464, 0, 65535),
      // The Temporal core's own Prometheus exporter; its text is appended to the worker's /metrics.
      temporalMetricsBind: env.TEMPORAL_METRICS_BIND === undefined ? '127.0.0.1:9465' : env.TEMPORAL_METRICS_BIND || undefined,
    },
    database: { url: databaseUrl, poolMax: int('DATABASE_POOL_MAX', 10, 1, 1000) },
    metering: { flushIntervalMs: int('USAGE_FLUSH_INTERVAL_MS', 1000, 10, 60_000), maxBatch: 1000 },
    temporal: {
      address: str('TEMPORAL_ADDRESS', '127.0.0.1:7233'),
      namespace: str('TEMPORAL_NAMESPACE', 'default'),
      taskQueue: str('TEMPORAL_TASK_QUEUE', 'mediaflow'),
      workflowBundlePath: env.WORKFLOW_BUNDLE_PATH || undefined,
      ...temporalTls(env, oneOf, problems),
      codecKeys: keyring(env, 'TEMPORAL_CODEC_KEYS', problems),
      codecCorsOrigins: (env.TEMPORAL_CODEC_CORS_ORIGINS ?? 'http://localhost:8233').split(',').map((o) => o.trim()).filter(Boolean),
    },
    worker: {
      tmpDir: str('WORKER_TMP_DIR', tmpdir()),
      maxConcurrentActivities: int('WORKER_MAX_CONCURRENT_ACTIVITIES', 4, 1, 1000),
    },
    s3: {
      endpoint: url('S3_ENDPOINT', 'http://127.0.0.1:9000'),
      // No default: `npm start` and the tests generate the credentials of the MinIO they run.
      accessKey: str('S3_ACCESS_KEY', ''),
      secretKey: str('S3_SECRET_KEY', ''),
      bucket: str('S3_BUCKET', 'mediaflow'),
      region: str('S3_REGION', 'us-east-1'),
      // A stream upload holds one multipart part in memory (lib/storage.ts): this bounds upload memory.
      partSizeBytes: int('S3_PART_SIZE_MB', 8, 5, 512) * mb,
      masterKeys: keyring(env, 'STORAGE_MASTER_KEYS', problems),
      requireEncryption: oneOf('STORAGE_REQUIRE_ENCRYPTION', ['true', 'false'] as const, 'false') === 'true',
    },
    media: {
      image: {
        maxFileSizeBytes: int('MAX_IMAGE_FILE_SIZE_MB', int('MAX_FILE_SIZE_MB', 50, 1), 1) * mb,
        maxResolution: int('MAX_IMAGE_RESOLUTION', 8192, 1),
        thumbnail: {
          width: int('THUMBNAIL_WIDTH', 200, 16, 2048),
          height: int('THUMBNAIL_HEIGHT', 200, 16, 2048),
          quality: int('THUMBNAIL_QUALITY', 80, 1, 100),
        },
      },
      audio: {
        maxFileSizeBytes: int('MAX_AUDIO_FILE_SIZE_MB', 100, 1) * mb,
        maxDurationMinutes: int('MAX_AUDIO_DURATION_MINUTES', 60, 1),
      },
      speakerSampleMaxBytes: int('SPEAKER_SAMPLE_MAX_MB', 10, 1, 100) * mb,
      retentionDays: int('DEFAULT_RETENTION_DAYS', 30, 1),
    },
    uploads: {
      maxBytes: int('UPLOAD_MAX_SIZE_MB', 0, 0) * mb,
      expiryMs: int('UPLOAD_EXPIRY_HOURS', 24, 1, 24 * 30) * 3_600_000,
      cleanupIntervalMs: int('UPLOAD_CLEANUP_INTERVAL_SECONDS', 600, 0) * 1000,
    },
    actions: {
      enabled: env.ACTIONS_ENABLED ? env.ACTIONS_ENABLED.split(',').map((a) => a.trim()).filter(Boolean) : undefined,
    },
    infraRetry: infraRetryConfig(str, int, problems),
    retention: {
      scheduleId: str('RETENTION_SCHEDULE_ID', 'mediaflow-retention'),
      sweepIntervalSeconds: retentionInterval(str('RETENTION_SWEEP_INTERVAL', '1h'), problems),
      batchSize: int('RETENTION_BATCH_SIZE', 100, 1, 10_000),
    },
    ...identityConfig(env, str, int, problems),
    lifecycle: lifecycleConfig(env, str, int, problems),
    intake: intakeConfig(env, str, int, problems),
    resources: resourceConfig(int, problems),
    webhooks: webhookConfig(env, int, problems),
    ai: {
      openai: {
        apiKey: env.OPENAI_API_KEY || undefined,
        baseUrl: url('OPENAI_BASE_URL', 'https://api.openai.com/v1').href.replace(/\/$/, ''),
        visionModel: str('OPENAI_VISION_MODEL', 'gpt-4o-mini'),
        transcribeModel: str('OPENAI_TRANSCRIBE_MODEL', 'whisper-1'),
        chatModel: str('OPENAI_CHAT_MODEL', 'gpt-4o-mini'),
        maxAudioBytes: int('OPENAI_AUDIO_MAX_BYTES', 25 * 1024 * 1024, 256 * 1024, 25 * 1024 * 1024),
      },
      anthropic: {
        apiKey: env.ANTHROPIC_API_KEY || undefined,
        baseUrl: url('ANTHROPIC_BASE_URL', 'https://api.anthropic.com').href.replace(/\/$/, ''),
        model: str('ANTHROPIC_MODEL', 'claude-sonnet-5-5'),
      },
      tesseract: { command: str('TESSERACT_PATH', 'tesseract') },
      local: {
        command: str('POCKETSPHINX_PATH', 'pocketsphinx_continuous'),
        hmm: str('POCKETSPHINX_HMM', ''),
        lm: str('POCKETSPHINX_LM', ''),
        dict: str('POCKETSPHINX_DICT', ''),
        maxPieceSeconds: int('LOCAL_TRANSCRIBE_PIECE_SECONDS', 300, 10, 3600),
      },
      providerMapping: aiProviderMapping(str('AI_PROVIDER_MAPPING', ''), problems),
      requestTimeoutMs: int('AI_REQUEST_TIMEOUT_MS', 120_000, 1000),
      providerKeysMasterKeys: keyring(env, 'PROVIDER_KEYS_MASTER_KEYS', problems),
    },
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}

// Secrets a development or test process generates for itself when its environment sets none: random,
// never a string written here, and the same for every loadConfig call of the process. They last as
// long as the process, so `npm start` generates them once into its data directory and hands them to
// the API and the worker (lib/local-secrets.ts).
const ephemeral = new Map<string, Buffer>();
export const ephemeralSecret = (name: string): Buffer => {
  let value = ephemeral.get(name);
  if (!value) ephemeral.set(name, (value = randomBytes(32)));
  return value;
};
const ephemeralText = (name: string): string => ephemeralSecret(name).toString('base64url');

/**
 * A keyring variable ("k2:<base64>,k1:<base64>", first = primary). Unset outside production: one
 * key of this process only (see ephemeralSecret). Unset in production: no key, and whatever needs it
 * (storage, the payload codec) refuses to start.
 */
function keyring(env: Env, name: string, problems: string[]): MasterKey[] {
  const raw = env[name];
  if (!raw) return env.NODE_ENV === 'production' ? [] : [{ id: 'ephemeral', key: ephemeralSecret(name) }];
  const parsed = parseKeyring(name, raw);
  problems.push(...parsed.problems);
  return parsed.keys;
}

export interface LifecycleConfig {
  /** Most steps one job may have (MAX_PIPELINE_STEPS). */
  maxPipelineSteps: number;
  /** How long a failed job's workflow waits for a retry signal (JOB_RETRY_WINDOW); later retries start a new run. */
  retryWindowMs: number;
  /** Retries allowed per job (JOB_MAX_RETRIES). */
  maxRetries: number;
  /** How long POST /jobs/{id}/cancel waits for the running step to confirm (JOB_CANCEL_WAIT). */
  cancelWaitMs: number;
  /**
   * Routing by input size: under highMaxBytes to `<TEMPORAL_TASK_QUEUE>-high`, over lowMinBytes to
   * `<TEMPORAL_TASK_QUEUE>-low`, else `<TEMPORAL_TASK_QUEUE>`.
   */
  routing: { highMaxBytes: number; lowMinBytes: number };
  /** Queues this worker process polls (WORKER_TASK_QUEUES); default: the three of TEMPORAL_TASK_QUEUE. */
  workerTaskQueues: string[];
  /** Heartbeats reach Temporal at least this often, which bounds how long a cancellation takes to arrive. */
  heartbeatThrottleMs: number;
  /** The worker's sweep for jobs whose workflow closed without recording an outcome (0: off). */
  reconcile: { intervalMs: number; graceMs: number };
}

function infraRetryConfig(str: (name: string, fallback: string) => string, int: (name: string, fallback: number, min?: number, max?: number) => number, problems: string[]): InfraRetryPolicy {
  const raw = str('INFRA_RETRY_FOR', '15m');
  if (!/^\d+(s|m|h|d)?$/.test(raw)) problems.push(`INFRA_RETRY_FOR must be a duration such as 90s, 15m or 1h (got "${raw}")`);
  const policy = {
    initialIntervalMs: int('INFRA_RETRY_INITIAL_MS', 1000, 10, 600_000),
    maximumIntervalMs: int('INFRA_RETRY_MAX_INTERVAL_MS', 30_000, 10, 3_600_000),
    giveUpAfterMs: parseDuration(/^\d+(s|m|h|d)?$/.test(raw) ? raw : '15m') * 1000,
  };
  if (policy.maximumIntervalMs < policy.initialIntervalMs) problems.push('INFRA_RETRY_MAX_INTERVAL_MS must not be below INFRA_RETRY_INITIAL_MS');
  if (policy.giveUpAfterMs < 1000) problems.push('INFRA_RETRY_FOR must be at least 1s');
  return policy;
}

/** Queue names for jobs of each size class, derived from the base task queue. */
export const jobQueues = (base: string) => ({ high: `${base}-high`, normal: base, low: `${base}-low` });

function lifecycleConfig(
  env: Env,
  str: (name: string, fallback: string) => string,
  int: (name: string, fallback: number, min?: number, max?: number) => number,
  problems: string[],
): LifecycleConfig {
  const ms = (name: string, fallback: string): number => {
    const raw = str(name, fallback);
    if (!/^\d+(s|m|h|d)?$/.test(raw)) {
      problems.push(`${name} must be a duration such as 30s, 15m, 24h or 7d (got "${raw}")`);
      return parseDuration(fallback) * 1000;
    }
    return parseDuration(raw) * 1000;
  };
  const mb = 1024 * 1024;
  const highMaxBytes = int('JOB_QUEUE_HIGH_MAX_MB', 5, 0) * mb;
  const lowMinBytes = int('JOB_QUEUE_LOW_MIN_MB', 20, 0) * mb;
  if (lowMinBytes < highMaxBytes) problems.push('JOB_QUEUE_LOW_MIN_MB must not be below JOB_QUEUE_HIGH_MAX_MB');
  const queues = jobQueues(str('TEMPORAL_TASK_QUEUE', 'mediaflow'));
  const workerTaskQueues = str('WORKER_TASK_QUEUES', '').split(',').map((q) => q.trim()).filter(Boolean);
  return {
    maxPipelineSteps: int('MAX_PIPELINE_STEPS', 10, 1, 100),
    retryWindowMs: ms('JOB_RETRY_WINDOW', '24h'),
    maxRetries: int('JOB_MAX_RETRIES', 3, 0, 100),
    cancelWaitMs: ms('JOB_CANCEL_WAIT', '10s'),
    routing: { highMaxBytes, lowMinBytes },
    workerTaskQueues: workerTaskQueues.length ? workerTaskQueues : [queues.high, queues.normal, queues.low],
    heartbeatThrottleMs: int('WORKER_HEARTBEAT_THROTTLE_MS', 250, 100, 60_000),
    reconcile: { intervalMs: ms('JOB_RECONCILE_INTERVAL', '60s'), graceMs: ms('JOB_RECONCILE_GRACE', '60s') },
  };
}

// An API key implies TLS (Temporal Cloud); certificate paths without TLS, or half a client pair, are mistakes.
function temporalTls(
  env: Env,
  oneOf: (name: string, allowed: readonly ['true', 'false'], fallback: 'true' | 'false') => 'true' | 'false',
  problems: string[],
): Pick<Config['temporal'], 'tls' | 'tlsCaPath' | 'tlsCertPath' | 'tlsKeyPath' | 'apiKey'> {
  const apiKey = env.TEMPORAL_API_KEY || undefined;
  const tls = oneOf('TEMPORAL_TLS', ['true', 'false'] as const, apiKey ? 'true' : 'false') === 'true';
  const tlsCaPath = env.TEMPORAL_TLS_CA_PATH || undefined;
  const tlsCertPath = env.TEMPORAL_TLS_CERT_PATH || undefined;
  const tlsKeyPath = env.TEMPORAL_TLS_KEY_PATH || undefined;
  if (!tls && (tlsCaPath || tlsCertPath || tlsKeyPath)) problems.push('TEMPORAL_TLS_*_PATH needs TEMPORAL_TLS=true');
  if (!tlsCertPath !== !tlsKeyPath) problems.push('TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH go together');
  return { tls, tlsCaPath, tlsCertPath, tlsKeyPath, apiKey };
}

function webhookConfig(env: Env, int: (name: string, fallback: number, min?: number, max?: number) => number, problems: string[]): WebhookConfig {
  const secretKey = env.WEBHOOK_SECRET_KEY || (env.NODE_ENV === 'production' ? '' : ephemeralText('WEBHOOK_SECRET_KEY'));
  if (env.WEBHOOK_SECRET_KEY && Buffer.byteLength(env.WEBHOOK_SECRET_KEY) < 32) problems.push('WEBHOOK_SECRET_KEY must be at least 32 bytes');
  const allowedCidrs = (env.WEBHOOK_ALLOWED_CIDRS ?? '').split(',').map((c) => c.trim()).filter(Boolean);
  for (const cidr of allowedCidrs) {
    const [net, prefix, extra] = cidr.split('/');
    const v = isIP(net ?? '');
    if (!v || extra !== undefined || (prefix !== undefined && !(/^\d+$/.test(prefix) && Number(prefix) <= (v === 6 ? 128 : 32)))) {
      problems.push(`WEBHOOK_ALLOWED_CIDRS entries are CIDRs such as 127.0.0.0/8 or ::1/128 (got "${cidr}")`);
    }
  }
  return {
    secretKey,
    allowedCidrs,
    timeoutMs: int('WEBHOOK_TIMEOUT_MS', 30_000, 1000, 300_000),
    retry: {
      initialIntervalMs: int('WEBHOOK_RETRY_INITIAL_MS', 30_000, 10),
      maximumIntervalMs: int('WEBHOOK_RETRY_MAX_INTERVAL_MS', 3_600_000, 10),
      giveUpAfterMs: int('WEBHOOK_RETRY_FOR_MS', 72 * 3_600_000, 1000),
    },
  };
}

export interface ResourceConfig {
  /** Open Server-Sent Events streams (job and upload events) per API instance: per organization, and in all. */
  sse: { maxStreamsPerOrg: number; maxStreams: number };
  /** Chunked uploads: the largest chunk spooled to disk, and chunk PUTs of one upload received at once per instance. */
  chunks: { maxBytes: number; maxInFlightPerUpload: number };
  /** ffmpeg actions read at most the duration measured at upload plus this margin (an input header may lie). */
  audioDurationMarginSeconds: number;
  /** libvips (sharp) stops an image action's decode and encode after this long. */
  imageTimeoutSeconds: number;
}

function resourceConfig(int: (name: string, fallback: number, min?: number, max?: number) => number, problems: string[]): ResourceConfig {
  const mb = 1024 * 1024;
  const maxStreamsPerOrg = int('SSE_MAX_STREAMS_PER_ORG', 50, 1, 100_000);
  const maxStreams = int('SSE_MAX_STREAMS', 1000, 1, 100_000);
  if (maxStreamsPerOrg > maxStreams) problems.push('SSE_MAX_STREAMS_PER_ORG must not be above SSE_MAX_STREAMS');
  return {
    sse: { maxStreamsPerOrg, maxStreams },
    // S3 needs parts of at least 5 MiB (but the last); 512 MiB bounds the disk one request may fill.
    chunks: { maxBytes: int('CHUNK_MAX_SIZE_MB', 100, 5, 512) * mb, maxInFlightPerUpload: int('CHUNK_MAX_IN_FLIGHT_PER_UPLOAD', 4, 1, 64) },
    audioDurationMarginSeconds: int('AUDIO_DURATION_MARGIN_SECONDS', 5, 0, 3600),
    imageTimeoutSeconds: int('IMAGE_PROCESSING_TIMEOUT_SECONDS', 60, 1, 3600),
  };
}

export interface IntakeConfig {
  /** Where clients reach the object store for presigned uploads (S3_PUBLIC_ENDPOINT, default S3_ENDPOINT). */
  s3PublicEndpoint: URL;
  /** How long a presigned upload URL stays valid. */
  presignExpirySeconds: number;
  /** URL imports: byte and time limits, redirects followed, CIDRs exempt from the private-address deny list. */
  importMaxBytes: number;
  importTimeoutMs: number;
  importMaxRedirects: number;
  importAllowedCidrs: string[];
  /** HMAC keys of signed download links (DOWNLOAD_LINK_SECRETS): the first signs, all verify, so keys rotate; none in production when unset. */
  downloadLinkSecrets: string[];
  downloadLinkMaxTtlSeconds: number;
}

function intakeConfig(
  env: Env,
  str: (name: string, fallback: string) => string,
  int: (name: string, fallback: number, min?: number, max?: number) => number,
  problems: string[],
): IntakeConfig {
  const mb = 1024 * 1024;
  const largestMedia = Math.max(int('MAX_IMAGE_FILE_SIZE_MB', int('MAX_FILE_SIZE_MB', 50, 1), 1), int('MAX_AUDIO_FILE_SIZE_MB', 100, 1)) * mb;
  // Unset: the internal endpoint (whose own problems S3_ENDPOINT reports).
  const explicit = env.S3_PUBLIC_ENDPOINT !== undefined && env.S3_PUBLIC_ENDPOINT !== '';
  const publicRaw = str('S3_PUBLIC_ENDPOINT', str('S3_ENDPOINT', 'http://127.0.0.1:9000'));
  let s3PublicEndpoint: URL;
  try {
    s3PublicEndpoint = new URL(publicRaw);
  } catch {
    if (explicit) problems.push(`S3_PUBLIC_ENDPOINT must be a URL (got "${publicRaw}")`);
    s3PublicEndpoint = new URL('http://127.0.0.1:9000');
  }
  const importAllowedCidrs = (env.IMPORT_ALLOWED_CIDRS ?? '').split(',').map((c) => c.trim()).filter(Boolean);
  for (const cidr of importAllowedCidrs) {
    const [net, prefix, extra] = cidr.split('/');
    const v = isIP(net ?? '');
    if (!v || extra !== undefined || (prefix !== undefined && !(/^\d+$/.test(prefix) && Number(prefix) <= (v === 6 ? 128 : 32)))) {
      problems.push(`IMPORT_ALLOWED_CIDRS entries are CIDRs such as 127.0.0.1/32 or ::1/128 (got "${cidr}")`);
    }
  }
  const secrets = (env.DOWNLOAD_LINK_SECRETS ?? '').split(',').map((k) => k.trim()).filter(Boolean);
  if (secrets.some((k) => Buffer.byteLength(k) < 32)) problems.push('DOWNLOAD_LINK_SECRETS entries must be at least 32 bytes');
  const downloadLinkSecrets = secrets.length ? secrets : env.NODE_ENV === 'production' ? [] : [ephemeralText('DOWNLOAD_LINK_SECRETS')];
  return {
    s3PublicEndpoint,
    presignExpirySeconds: int('PRESIGN_EXPIRY_SECONDS', 900, 60, 7 * 86_400),
    importMaxBytes: int('IMPORT_MAX_BYTES', largestMedia, 1),
    importTimeoutMs: int('IMPORT_TIMEOUT_MS', 300_000, 1000),
    importMaxRedirects: int('IMPORT_MAX_REDIRECTS', 5, 0, 20),
    importAllowedCidrs,
    downloadLinkSecrets,
    downloadLinkMaxTtlSeconds: int('DOWNLOAD_LINK_MAX_TTL_SECONDS', 7 * 86_400, 60),
  };
}

const AI_PROVIDERS: readonly AiProviderName[] = ['openai', 'anthropic', 'tesseract', 'local'];

// "<action id>=tesseract,<action id>=openai": entries override the actions' own default providers.
function aiProviderMapping(raw: string, problems: string[]): Record<string, AiProviderName> {
  const mapping: Record<string, AiProviderName> = {};
  for (const entry of raw.split(',').map((e) => e.trim()).filter(Boolean)) {
    const [action, provider, extra] = entry.split('=').map((p) => p.trim());
    if (!action || extra !== undefined || !(AI_PROVIDERS as readonly string[]).includes(provider ?? '')) {
      problems.push(`AI_PROVIDER_MAPPING entries are action=provider with provider one of ${AI_PROVIDERS.join(', ')} (got "${entry}")`);
      continue;
    }
    mapping[action] = provider as AiProviderName;
  }
  return mapping;
}

export type RouteClass = 'auth' | 'upload' | 'jobs' | 'status' | 'download' | 'read' | 'write';
export const ROUTE_CLASS_NAMES: readonly RouteClass[] = ['auth', 'upload', 'jobs', 'status', 'download', 'read', 'write'];

/** A rate-limit policy: `limit` requests per `windowSeconds`. */
export interface RatePolicy {
  limit: number;
  windowSeconds: number;
}
export interface AuthConfig {
  /** HS256 key (>= 32 bytes). */
  jwtSecret: string;
  jwtIssuer: string;
  jwtAudience: string;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  invitationTtlSeconds: number;
  /** argon2id parameters; never below OWASP's minimum (m=19456 KiB, t=2, p=1). */
  argon2: { memoryKib: number; timeCost: number; parallelism: number };
  /** last_used_at of an API key is written at most this often. */
  apiKeyLastUsedResolutionMs: number;
  /**
   * How long an API instance reuses a resolved API key or session (AUTH_CACHE_TTL, 0: never).
   * Revocations, role changes and removals reach every instance at once through Postgres
   * LISTEN/NOTIFY; the TTL only bounds how stale an entry can be if a notification were missed.
   */
  credentialCacheMs: number;
  /**
   * User ids of platform operators besides those flagged in the database (PLATFORM_ADMIN_USER_IDS,
   * for deployments configured as code): they may call /admin/* and the payload codec with a bearer
   * token. Ids, never emails: an address proves nothing about who registered it.
   */
  platformAdminUserIds: string[];
}
export interface RateLimitConfig {
  /**
   * Each route class's policy (per API key, per user, or per IP when anonymous): RATE_LIMIT_<CLASS>
   * as `<requests>/<window>` (`10/1h`, `60/1m`), else RATE_LIMIT_<CLASS>_PER_MINUTE (`<requests>/1m`).
   */
  classes: Record<RouteClass, RatePolicy>;
  /** Failed logins allowed per IP and email within the window, then 429 until it ends. */
  loginFailures: number;
  loginFailureWindowSeconds: number;
  /**
   * Share of a limit (percent, RATE_LIMIT_LEASE_PERCENT; 0: a store round trip per request) that an
   * API instance takes from the shared counter at once and then hands out locally. Never admits
   * more than the limit; may refuse early by the leases other instances hold unused.
   */
  leasePercent: number;
}
export interface OrganizationDefaults {
  maxUsers: number;
  maxApiKeys: number;
  storageGb: number;
  requestsPerDay: number;
  maxFileSizeMb: number;
  retentionDays: number;
  /** ORG_RETENTION_HOURS, for retention shorter than a day: wins over retentionDays when set (0: retentionDays). */
  retentionHours: number;
  concurrentJobs: number;
}

function identityConfig(
  env: Env,
  str: (name: string, fallback: string) => string,
  int: (name: string, fallback: number, min?: number, max?: number) => number,
  problems: string[],
): Pick<Config, 'auth' | 'rateLimits' | 'organizationDefaults'> {
  const policy = (name: string, perMinute: number): RatePolicy => {
    const raw = env[`RATE_LIMIT_${name}`];
    if (raw === undefined || raw === '') return { limit: int(`RATE_LIMIT_${name}_PER_MINUTE`, perMinute, 1), windowSeconds: 60 };
    const m = /^(\d+)\/(\d+(?:s|m|h|d)?)$/.exec(raw.trim());
    if (!m || Number(m[1]) < 1 || Number(/^\d+/.exec(m[2]!)![0]) < 1) {
      problems.push(`RATE_LIMIT_${name} must be <requests>/<window>, such as 10/1h or 60/1m (got "${raw}")`);
      return { limit: perMinute, windowSeconds: 60 };
    }
    return { limit: Number(m[1]), windowSeconds: parseDuration(m[2]!) };
  };
  const duration = (name: string, fallback: string): number => {
    const raw = str(name, fallback);
    const m = /^(\d+)(s|m|h|d)?$/.exec(raw);
    if (!m || Number(m[1]) <= 0) {
      problems.push(`${name} must be a duration such as 900, 15m, 12h or 7d (got "${raw}")`);
      return parseDuration(fallback);
    }
    return parseDuration(raw);
  };
  // Empty in production when unset: only the API needs it, and it refuses to start without it
  // (see createAccessTokens); the worker and migrations run without.
  const jwtSecret = env.JWT_SECRET || (env.NODE_ENV === 'production' ? '' : ephemeralText('JWT_SECRET'));
  if (env.JWT_SECRET && Buffer.byteLength(env.JWT_SECRET) < 32) problems.push('JWT_SECRET must be at least 32 bytes');
  return {
    auth: {
      jwtSecret,
      jwtIssuer: str('JWT_ISSUER', 'mediaflow'),
      jwtAudience: str('JWT_AUDIENCE', 'mediaflow-api'),
      accessTtlSeconds: duration('JWT_ACCESS_TTL', '15m'),
      refreshTtlSeconds: duration('JWT_REFRESH_TTL', '7d'),
      invitationTtlSeconds: duration('INVITATION_TTL', '7d'),
      argon2: {
        memoryKib: int('ARGON2_MEMORY_KIB', 19_456, 19_456, 4_194_304),
        timeCost: int('ARGON2_TIME_COST', 2, 2, 100),
        parallelism: int('ARGON2_PARALLELISM', 1, 1, 64),
      },
      apiKeyLastUsedResolutionMs: duration('API_KEY_LAST_USED_RESOLUTION', '5m') * 1000,
      credentialCacheMs: int('AUTH_CACHE_TTL_MS', 5000, 0, 60_000),
      platformAdminUserIds: platformAdminUserIds(env, problems),
    },
    rateLimits: {
      classes: {
        auth: policy('AUTH', 20),
        upload: policy('UPLOAD', 60),
        jobs: policy('JOBS', 120),
        // Job status reads (GET /jobs/{id}, its events, transcriptions) and downloads (media, results, artifacts, thumbnails).
        status: policy('STATUS', 600),
        download: policy('DOWNLOAD', 600),
        read: policy('READ', 600),
        write: policy('WRITE', 120),
      },
      loginFailures: int('LOGIN_MAX_FAILURES', 5, 1),
      loginFailureWindowSeconds: duration('LOGIN_FAILURE_WINDOW', '15m'),
      leasePercent: int('RATE_LIMIT_LEASE_PERCENT', 2, 0, 10),
    },
    organizationDefaults: {
      maxUsers: int('ORG_MAX_USERS', 0, 0),
      maxApiKeys: int('ORG_MAX_API_KEYS', 0, 0),
      storageGb: int('ORG_STORAGE_GB', 10, 0),
      requestsPerDay: int('ORG_REQUESTS_PER_DAY', 10_000, 0),
      // 0: only the per-media-type limits (MAX_IMAGE_FILE_SIZE_MB, MAX_AUDIO_FILE_SIZE_MB) apply.
      maxFileSizeMb: int('ORG_MAX_FILE_SIZE_MB', 0, 0),
      retentionDays: int('ORG_RETENTION_DAYS', int('DEFAULT_RETENTION_DAYS', 30, 1), 1),
      retentionHours: int('ORG_RETENTION_HOURS', 0, 0),
      concurrentJobs: int('ORG_CONCURRENT_JOBS', 10, 0),
    },
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function platformAdminUserIds(env: Env, problems: string[]): string[] {
  if (env.PLATFORM_ADMIN_EMAILS) {
    problems.push('PLATFORM_ADMIN_EMAILS is removed: grant platform administration with `npm run admin:grant -- <email or user id>`, or list user ids in PLATFORM_ADMIN_USER_IDS');
  }
  const ids = (env.PLATFORM_ADMIN_USER_IDS ?? '').split(',').map((id) => id.trim().toLowerCase()).filter(Boolean);
  for (const id of ids) if (!UUID.test(id)) problems.push(`PLATFORM_ADMIN_USER_IDS entries are user ids (UUIDs), not emails or names (got "${id}")`);
  return ids;
}

// "https://app.example.com,http://localhost:5173": exact origins (scheme, host, port), no paths or wildcards.
function corsOrigins(raw: string, problems: string[]): string[] {
  const out: string[] = [];
  for (const entry of raw.split(',').map((o) => o.trim()).filter(Boolean)) {
    let origin: string | undefined;
    try {
      const u = new URL(entry);
      if ((u.protocol === 'http:' || u.protocol === 'https:') && u.origin === entry.replace(/\/$/, '')) origin = u.origin;
    } catch {
      /* reported below */
    }
    if (origin) out.push(origin);
    else problems.push(`CORS_ALLOWED_ORIGINS entries are origins such as https://app.example.com (got "${entry}")`);
  }
  return out;
}

// "30m", "1h", "1d" or seconds; at least a minute, so a typo cannot hammer storage.
function retentionInterval(raw: string, problems: string[]): number {
  if (!/^(\d+)(s|m|h|d)?$/.test(raw) || parseDuration(raw) < 60) {
    problems.push(`RETENTION_SWEEP_INTERVAL must be a duration of at least 60s, such as 15m, 1h or 1d (got "${raw}")`);
    return 3600;
  }
  return parseDuration(raw);
}

function parseDuration(raw: string): number {
  const m = /^(\d+)(s|m|h|d)?$/.exec(raw)!;
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
}
