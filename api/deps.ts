import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import type { ActionRegistry } from '#domain/actions/registry.js';
import type { Clock } from '#domain/clock.js';
import type { Config } from '#lib/config.js';
import type { Logger } from '#lib/logger.js';
import type { Metrics } from '#lib/metrics.js';
import type { Tracer } from '@opentelemetry/api';
import type { ObjectStorage } from '#lib/storage.js';

/** Everything with a side effect that the API uses, handed in so tests choose real or fake. */
export interface ApiDeps {
  config: Config;
  logger: Logger;
  orm: MikroORM;
  storage: ObjectStorage;
  temporal: Client;
  actions: ActionRegistry;
  clock: Clock;
  metrics: Metrics;
  tracer: Tracer;
}
