import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../lib/logger.js';
import type { Metrics } from '../lib/metrics.js';
import type { AiRegistry } from './actions/ai.js';
import type { ObjectStorage } from '../lib/storage.js';
import type { ActionRegistry } from './actions/registry.js';
import type { ActionLimits } from './actions/types.js';

export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

export interface ActivityDeps {
  orm: MikroORM;
  storage: ObjectStorage;
  actions: ActionRegistry;
  limits: ActionLimits;
  ai: AiRegistry;
  logger: Logger;
  clock: Clock;
  /** Where inputs are downloaded; each activity uses its own subdirectory. */
  tmpDir: string;
  retentionDays: number;
  metrics: Metrics;
}
