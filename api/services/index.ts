import type { ApiDeps } from '../deps.js';
import { createHealthService } from './health-service.js';
import { createJobService } from './job-service.js';
import { createMediaService } from './media-service.js';

export function createServices(deps: ApiDeps) {
  const media = createMediaService(deps);
  return { media, jobs: createJobService(deps, media), health: createHealthService(deps) };
}
export type Services = ReturnType<typeof createServices>;
