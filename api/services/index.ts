import type { ApiDeps } from '../deps.js';
import { createApiKeyService } from './api-key-service.js';
import { createAuthService } from './auth-service.js';
import { createTranscriptionService } from './transcription-service.js';
import { createSearchService } from './search-service.js';
import { createCodecService } from './codec-service.js';
import { createHealthService } from './health-service.js';
import { createJobService } from './job-service.js';
import { createJobDispatcher } from './job-dispatcher.js';
import { createJobEventHub } from './job-event-hub.js';
import { createJobLifecycleService } from './job-lifecycle-service.js';
import { createStreamSlots } from './stream-slots.js';
import { createJobListing } from './job-listing.js';
import { createJobView } from './job-view.js';
import { createMediaDeletion } from './media-deletion.js';
import { createMediaListing } from './media-listing.js';
import { createUsageService } from './usage-service.js';
import { createCredentialCache } from './credential-cache.js';
import { createIdempotency } from '../middleware/idempotency.js';
import { createMediaService } from './media-service.js';
import { createAdminService } from './admin-service.js';
import { createMetricsService } from './metrics-service.js';
import { createOrganizationService } from './organization-service.js';
import { createQuotaService } from './quota-service.js';
import { createRateLimitService, poolStore } from './rate-limit-service.js';
import { createSystemService } from './system-service.js';
import { createThumbnailService } from './thumbnail-service.js';
import { createUploadServices } from './uploads/index.js';
import { createWebhookService } from './webhook-service.js';
import { createDirectUploadStorage } from '#lib/direct-upload-storage.js';
import { createDirectUploadService } from './direct-upload-service.js';
import { createDownloadLinkService } from './download-link-service.js';
import { createImportService } from './import-service.js';
import { createShareService } from './share-service.js';
import { createSpeakerService } from './speaker-service.js';

export function createServices(deps: ApiDeps) {
  const media = createMediaService(deps);
  // The submission outbox's workflow starts, shared by every way in (POST /process, upload-and-process).
  // Its sweep for rows nobody is starting runs once the server starts it (runBackground).
  const dispatcher = createJobDispatcher(deps);
  const jobs = createJobService(deps, dispatcher);
  const health = createHealthService(deps);
  const rateLimits = createRateLimitService({ store: poolStore(deps.orm), config: deps.config, logger: deps.logger });
  const credentials = createCredentialCache({ databaseUrl: deps.config.database.url, ttlMs: deps.config.auth.credentialCacheMs, logger: deps.logger });
  const usage = createUsageService(deps);
  const quotas = createQuotaService(deps);
  // Its own job service: a stateless view over deps.
  const uploads = createUploadServices(deps, media, createJobService(deps, dispatcher), quotas);
  const jobEvents = createJobEventHub({ orm: deps.orm, databaseUrl: deps.config.database.url, logger: deps.logger });
  const transcriptions = createTranscriptionService(deps);
  return {
    media,
    jobs,
    jobLifecycle: createJobLifecycleService(deps, jobs, jobEvents, dispatcher),
    dispatcher,
    jobView: createJobView(deps),
    jobEvents,
    /** Open event streams (jobs and uploads), bounded per organization and per instance. */
    streams: createStreamSlots(deps.config.resources.sse),
    thumbnails: createThumbnailService(deps, media),
    health,
    metrics: createMetricsService(deps),
    system: createSystemService(deps, health),
    admin: createAdminService(deps, health),
    rateLimits,
    auth: createAuthService(deps, rateLimits, credentials),
    organizations: createOrganizationService(deps, credentials),
    apiKeys: createApiKeyService(deps, credentials),
    quotas,
    uploads,
    webhooks: createWebhookService(deps),
    directUploads: createDirectUploadService(deps, media, createDirectUploadStorage(deps.config.s3, deps.config.intake.s3PublicEndpoint), quotas),
    imports: createImportService(deps),
    shares: createShareService(deps, media),
    downloadLinks: createDownloadLinkService(deps, media),
    jobList: createJobListing(deps),
    mediaList: createMediaListing(deps),
    mediaDeletion: createMediaDeletion(deps, media),
    usage,
    idempotency: createIdempotency(deps),
    codec: createCodecService(deps),
    transcriptions,
    speakers: createSpeakerService(deps, transcriptions),
    /** Once the server takes no more requests: queued usage rows written, leases given back, notifications closed, job starts handed on. */
    async close(): Promise<void> {
      await Promise.all([dispatcher.close(), usage.close(), rateLimits.close(), credentials.close(), jobEvents.close()]);
      uploads.close();
    },
    search: createSearchService(deps),
  };
}
export type Services = ReturnType<typeof createServices>;
