import type { InfraRetryPolicy } from './infra-errors.js';
import { readAi, type AiConfig } from './config/ai.js';
import { readAuth, type AuthConfig } from './config/auth.js';
import { readDatabase, type DatabaseConfig } from './config/database.js';
import { readConsole, readHttp, type ConsoleConfig, type HttpConfig } from './config/http.js';
import { readInfraRetry, readLifecycle, readRetention, type LifecycleConfig, type RetentionConfig } from './config/jobs.js';
import {
  readMetering,
  readOrganizationDefaults,
  readRateLimits,
  readResources,
  type MeteringConfig,
  type OrganizationDefaults,
  type RateLimitConfig,
  type ResourceConfig,
} from './config/limits.js';
import { readActions, readMedia, type ActionsConfig, type MediaConfig } from './config/media.js';
import { readLogLevel, readTelemetry, type TelemetryConfig } from './config/observability.js';
import { EnvReader, type Env } from './config/reader.js';
import { readS3, type S3Config } from './config/storage.js';
import { readTemporal, readWorker, type TemporalConfig, type WorkerConfig } from './config/temporal.js';
import { readIntake, readUploads, type IntakeConfig, type UploadsConfig } from './config/uploads.js';
import { readWebhooks, type WebhookConfig } from './config/webhooks.js';

export { ConfigError, ephemeralSecret } from './config/reader.js';
export type { AiConfig, AiProviderName } from './config/ai.js';
export type { AuthConfig } from './config/auth.js';
export { jobQueues, type LifecycleConfig } from './config/jobs.js';
export { ROUTE_CLASS_NAMES, type OrganizationDefaults, type RateLimitConfig, type RatePolicy, type ResourceConfig, type RouteClass } from './config/limits.js';
export type { FfmpegConfig } from './config/media.js';
export type { IntakeConfig } from './config/uploads.js';
export type { WebhookConfig } from './config/webhooks.js';

// Everything the platform reads from the environment, by concern (lib/config/*.ts), all through one
// reader (lib/config/reader.ts) that reads each variable once and reports every bad one at once.
export interface Config {
  env: 'development' | 'production' | 'test';
  http: HttpConfig;
  console: ConsoleConfig;
  logLevel: string;
  telemetry: TelemetryConfig;
  database: DatabaseConfig;
  temporal: TemporalConfig;
  worker: WorkerConfig;
  s3: S3Config;
  media: MediaConfig;
  infraRetry: InfraRetryPolicy;
  retention: RetentionConfig;
  /** Pipelines, cancel, retry, queue routing and reconciliation of jobs. */
  lifecycle: LifecycleConfig;
  auth: AuthConfig;
  rateLimits: RateLimitConfig;
  metering: MeteringConfig;
  /** Quotas of an organization whose settings.quotas do not say otherwise (0 = unlimited). */
  organizationDefaults: OrganizationDefaults;
  ai: AiConfig;
  actions: ActionsConfig;
  uploads: UploadsConfig;
  intake: IntakeConfig;
  /** Bounds on what one client can make an API instance or a worker hold. */
  resources: ResourceConfig;
  webhooks: WebhookConfig;
}

/** Reads the configuration; throws ConfigError listing every bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const r = new EnvReader(env);
  const nodeEnv = r.enum('NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  // Secrets nobody set: none in production (what needs one refuses to start), else random ones of this process.
  const production = nodeEnv === 'production';
  const temporal = readTemporal(r, { production });
  const s3 = readS3(r, { production });
  const media = readMedia(r);
  const config: Config = {
    env: nodeEnv,
    http: readHttp(r),
    console: readConsole(r),
    logLevel: readLogLevel(r),
    telemetry: readTelemetry(r),
    database: readDatabase(r),
    temporal,
    worker: readWorker(r),
    s3,
    media,
    infraRetry: readInfraRetry(r),
    retention: readRetention(r),
    lifecycle: readLifecycle(r, { taskQueue: temporal.taskQueue }),
    auth: readAuth(r, { production }),
    rateLimits: readRateLimits(r),
    metering: readMetering(r),
    organizationDefaults: readOrganizationDefaults(r, { retentionDays: media.retentionDays }),
    ai: readAi(r, { production, ffmpegPath: media.ffmpeg.ffmpegPath }),
    actions: readActions(r),
    uploads: readUploads(r),
    intake: readIntake(r, { production, s3Endpoint: s3.endpoint, largestMediaBytes: Math.max(media.image.maxFileSizeBytes, media.audio.maxFileSizeBytes) }),
    resources: readResources(r),
    webhooks: readWebhooks(r, { production }),
  };
  r.finish();
  return config;
}

/** Every variable loadConfig reads (all of them are read when none is set), for checks of deployment files. */
export function configVariables(): string[] {
  const names = new Set<string>();
  const recording = new Proxy({} as Env, {
    get: (_target, name) => {
      if (typeof name === 'string') names.add(name);
      return undefined;
    },
  });
  loadConfig(recording);
  return [...names].sort();
}
