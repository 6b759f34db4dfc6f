import type { MikroORM } from '@mikro-orm/postgresql';
import type { WebhookConfig } from '#lib/config.js';
import type { Logger } from '#lib/logger.js';
import type { Metrics } from '#lib/metrics.js';
import type { AiRegistry } from '#lib/ai/ports.js';
import type { ProviderKeys } from '#workflows/types.js';
import type { ObjectStorage } from '#lib/storage.js';
import type { ActionRegistry } from '#domain/actions/registry.js';
import type { ActionLimits } from '#domain/actions/types.js';
import type { Ffmpeg } from '#domain/media/ffmpeg.js';
import type { ImportDeps } from './import-media.js';
import type { JobStore } from '#domain/job-store.js';

export { systemClock, type Clock } from '#domain/clock.js';
import type { Clock } from '#domain/clock.js';

export type WebhookActivityConfig = WebhookConfig & { taskQueue: string; apiBaseUrl: string };

export interface ActivityDeps {
  orm: MikroORM;
  /** The only writer of job state (processing_jobs, job_steps, job_events). */
  jobs: JobStore;
  storage: ObjectStorage;
  actions: ActionRegistry;
  limits: ActionLimits;
  ai: AiRegistry;
  /** ffmpeg and ffprobe as configured (config.media.ffmpeg), handed to the actions in their context. */
  ffmpeg: Ffmpeg;
  logger: Logger;
  clock: Clock;
  /** Where inputs are downloaded; each activity uses its own subdirectory. */
  tmpDir: string;
  /** Inputs up to this size are read to memory for actions that take a buffer (default: run-action.ts's MEMORY_INPUT_MAX_BYTES). */
  memoryInputMaxBytes?: number;
  retentionDays: number;
  metrics: Metrics;
  /** Providers built with a request's own keys (X-OpenAI-API-Key, X-Anthropic-API-Key) in place of the configured ones. */
  aiWithKeys?: (keys: ProviderKeys) => AiRegistry;
  /** Webhook deliveries: where their workflows run and the API's public URL for result links (the worker always sets it). */
  webhooks?: WebhookActivityConfig;
  /** Long audio: the largest file OpenAI takes and the longest piece the local engine gets (defaults: 25 MB, 300 s). */
  transcription?: { openaiMaxAudioBytes: number; localMaxPieceSeconds: number };
  /** The thumbnail box (THUMBNAIL_WIDTH, THUMBNAIL_HEIGHT, THUMBNAIL_QUALITY); 200x200 at quality 80 when absent. */
  thumbnail?: { width: number; height: number; quality: number };
  /** URL imports: limits, address policy, and job submission (the worker always sets it). */
  imports?: ImportDeps;
}
