import { tmpdir } from 'node:os';

// The one place that reads the environment. Every bad variable is reported at once.
export interface Config {
  env: 'development' | 'production' | 'test';
  http: { host: string; port: number; publicUrl: string; bodyLimitKb: number; trustProxy: boolean; shutdownGraceMs: number };
  logLevel: string;
  database: { url: string; poolMax: number };
  temporal: { address: string; namespace: string; taskQueue: string; workflowBundlePath?: string };
  worker: { tmpDir: string; maxConcurrentActivities: number };
  s3: {
    endpoint: URL;
    accessKey: string;
    secretKey: string;
    bucket: string;
    region: string;
    partSizeBytes: number;
  };
  media: {
    image: { maxFileSizeBytes: number; maxResolution: number };
    audio: { maxFileSizeBytes: number };
    retentionDays: number;
  };
  jobs: { activityTimeoutMs: number; maxAttempts: number };
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
  const databaseUrl = str('DATABASE_URL', 'postgresql://postgres@127.0.0.1:5432/mediaflow');
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) problems.push('DATABASE_URL must be a postgresql:// URL');
  const mb = 1024 * 1024;

  const config: Config = {
    env: oneOf('NODE_ENV', ['development', 'production', 'test'] as const, 'development'),
    http: {
      host: str('HOST', '0.0.0.0'),
      port,
      publicUrl: str('API_BASE_URL', `http://localhost:${port}`).replace(/\/$/, ''),
      bodyLimitKb: int('JSON_BODY_LIMIT_KB', 1024, 1),
      trustProxy: oneOf('TRUST_PROXY', ['true', 'false'] as const, 'false') === 'true',
      shutdownGraceMs: int('SHUTDOWN_GRACE_MS', 25_000, 0),
    },
    logLevel: oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    database: { url: databaseUrl, poolMax: int('DATABASE_POOL_MAX', 10, 1, 1000) },
    temporal: {
      address: str('TEMPORAL_ADDRESS', '127.0.0.1:7233'),
      namespace: str('TEMPORAL_NAMESPACE', 'default'),
      taskQueue: str('TEMPORAL_TASK_QUEUE', 'mediaflow'),
      workflowBundlePath: env.WORKFLOW_BUNDLE_PATH || undefined,
    },
    worker: {
      tmpDir: str('WORKER_TMP_DIR', tmpdir()),
      maxConcurrentActivities: int('WORKER_MAX_CONCURRENT_ACTIVITIES', 4, 1, 1000),
    },
    s3: {
      endpoint: url('S3_ENDPOINT', 'http://127.0.0.1:9000'),
      accessKey: str('S3_ACCESS_KEY', 'minioadmin'),
      secretKey: str('S3_SECRET_KEY', 'minioadmin'),
      bucket: str('S3_BUCKET', 'mediaflow'),
      region: str('S3_REGION', 'us-east-1'),
      // minio-js buffers one multipart part in memory per upload: this bounds upload memory.
      partSizeBytes: int('S3_PART_SIZE_MB', 8, 5, 512) * mb,
    },
    media: {
      image: {
        maxFileSizeBytes: int('MAX_IMAGE_FILE_SIZE_MB', int('MAX_FILE_SIZE_MB', 50, 1), 1) * mb,
        maxResolution: int('MAX_IMAGE_RESOLUTION', 8192, 1),
      },
      audio: { maxFileSizeBytes: int('MAX_AUDIO_FILE_SIZE_MB', 100, 1) * mb },
      retentionDays: int('DEFAULT_RETENTION_DAYS', 30, 1),
    },
    jobs: {
      activityTimeoutMs: int('JOB_TIMEOUT_MS', 300_000, 1000),
      maxAttempts: int('JOB_MAX_ATTEMPTS', 5, 1, 100),
    },
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}
