import type { MikroORM } from '@mikro-orm/postgresql';
import type { Tracer } from '@opentelemetry/api';
import type { ActionRegistry } from '#domain/actions/registry.js';
import { systemClock } from '#activities/deps.js';
import type { ImportDeps } from '#activities/import-media.js';
import type { ApiDeps } from '#api/deps.js';
import { createJobService } from '#api/services/job-service.js';
import { inspectorFor } from '#domain/media/inspect.js';
import type { Config } from '#lib/config.js';
import type { Logger } from '#lib/logger.js';
import type { Metrics } from '#lib/metrics.js';
import type { ObjectStorage } from '#lib/storage.js';

/**
 * URL imports on the worker. A job requested with an import is submitted through the API's own
 * job service (validation, job record, workflow start), with the activity's Temporal client.
 */
export function importDeps(
  config: Config,
  common: { orm: MikroORM; storage: ObjectStorage; actions: ActionRegistry; logger: Logger; metrics: Metrics; tracer: Tracer },
): ImportDeps {
  return {
    maxBytes: config.intake.importMaxBytes,
    maxRedirects: config.intake.importMaxRedirects,
    allowedCidrs: config.intake.importAllowedCidrs,
    mediaLimits: { imageMaxBytes: config.media.image.maxFileSizeBytes, audioMaxBytes: config.media.audio.maxFileSizeBytes },
    inspect: inspectorFor(config),
    submitJob(temporal, organizationId, req) {
      const deps: ApiDeps = { config, ...common, temporal, clock: systemClock };
      return createJobService(deps).submit(organizationId, req);
    },
  };
}
