import type { ApiDeps } from '../deps.js';
import { createApiKeyService } from './api-key-service.js';
import { createAuthService } from './auth-service.js';
import { createHealthService } from './health-service.js';
import { createJobService } from './job-service.js';
import { createMediaService } from './media-service.js';
import { createMetricsService } from './metrics-service.js';
import { createOrganizationService } from './organization-service.js';
import { createQuotaService } from './quota-service.js';
import { createRateLimitService, poolStore } from './rate-limit-service.js';
import { createSystemService } from './system-service.js';
import { createThumbnailService } from './thumbnail-service.js';

export function createServices(deps: ApiDeps) {
  const media = createMediaService(deps);
  const health = createHealthService(deps);
  const rateLimits = createRateLimitService({ store: poolStore(deps.orm), config: deps.config, logger: deps.logger });
  return {
    media,
    jobs: createJobService(deps, media),
    thumbnails: createThumbnailService(deps, media),
    health,
    metrics: createMetricsService(deps),
    system: createSystemService(deps, health),
    rateLimits,
    auth: createAuthService(deps, rateLimits),
    organizations: createOrganizationService(deps),
    apiKeys: createApiKeyService(deps),
    quotas: createQuotaService(deps),
  };
}
export type Services = ReturnType<typeof createServices>;
