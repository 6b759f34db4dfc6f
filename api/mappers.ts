import type { components } from './generated/openapi.js';
import type { JobStep } from '#entities/index.js';
import type { JobFields, StepFields } from './services/job-view.js';
import type { MediaListItem } from './services/media-listing.js';
import { jobErrorCode } from '#workflows/job-errors.js';

type Schemas = components['schemas'];
const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

export function toMediaFile(m: MediaListItem, baseUrl: string): Schemas['MediaFile'] {
  return {
    id: m.id,
    original_filename: m.originalFilename,
    mime_type: m.mimeType,
    media_type: m.mediaType,
    file_size_bytes: m.fileSizeBytes,
    checksum_md5: m.checksumMd5,
    checksum_sha256: m.checksumSha256,
    status: m.status,
    metadata: m.metadata as Record<string, unknown>,
    created_at: m.createdAt.toISOString(),
    expires_at: m.expiresAt.toISOString(),
    download_url: `${baseUrl}/api/v1/media/${m.id}/download`,
    ...(m.mediaType === 'image' ? { thumbnail_status: m.thumbnailStatus ?? 'pending' } : {}),
  };
}

/** Queued (or created, when its workflow started it first) to its first step's start: as the usage report counts it. */
function queueWaitMs(j: JobFields): number | null {
  if (!j.startedAt) return null;
  const wait = j.startedAt.getTime() - (j.queuedAt ?? j.createdAt).getTime();
  return wait >= 0 ? wait : null;
}

export function toJob(j: JobFields, baseUrl: string, steps?: StepFields[], now: Date = new Date()): Schemas['Job'] {
  const job: Schemas['Job'] = {
    id: j.id,
    status: j.status,
    action_id: j.actionId,
    media_id: j.inputMedia.id,
    parameters: j.parameters as Record<string, unknown>,
    progress: Number(j.progress),
    retry_count: j.retryCount,
    created_at: j.createdAt.toISOString(),
    queued_at: iso(j.queuedAt),
    started_at: iso(j.startedAt),
    queue_wait_ms: queueWaitMs(j),
    completed_at: iso(j.completedAt),
    processing_time_ms: j.processingTimeMs ?? null,
  };
  if (j.workflowId) job.workflow_id = j.workflowId;
  job.max_retries = j.maxRetries;
  job.current_step = j.currentStep ?? null;
  job.total_steps = j.totalSteps;
  job.eta_seconds = etaSeconds(j, now);
  job.cancelled_at = iso(j.cancelledAt);
  job.cancelled_by = j.cancelledBy ?? null;
  job.cancel_reason = j.cancelReason ?? null;
  if (steps) job.steps = steps.map((s) => toJobStep(s, j.id, baseUrl));
  if (j.status === 'failed') job.error = { code: jobErrorCode(j.errorCode), message: j.errorMessage ?? '' };
  if (j.status === 'completed' && j.resultType) {
    const data = (j.resultData ?? {}) as { mime_type?: string; file_size_bytes?: number; data?: Record<string, unknown> };
    job.result = {
      type: j.resultType,
      download_url: `${baseUrl}/api/v1/jobs/${j.id}/result`,
      ...(data.mime_type ? { mime_type: data.mime_type } : {}),
      ...(data.file_size_bytes !== undefined ? { file_size_bytes: data.file_size_bytes } : {}),
      ...(data.data ? { data: data.data } : {}),
    };
  }
  return job;
}

/** Time left, extrapolated from the time elapsed and the progress so far; none before 1 % or outside processing. */
function etaSeconds(j: JobFields, now: Date): number | null {
  const progress = Number(j.progress);
  if (j.status !== 'processing' || !j.startedAt || progress < 0.01 || progress >= 1) return null;
  const elapsed = (now.getTime() - j.startedAt.getTime()) / 1000;
  return Math.max(0, Math.round((elapsed * (1 - progress)) / progress));
}

function stepResult(s: StepFields, jobId: string, baseUrl: string): Schemas['JobResult'] | undefined {
  if (s.status !== 'completed' || !s.resultType) return undefined;
  const data = (s.resultData ?? {}) as { mime_type?: string; file_size_bytes?: number; data?: Record<string, unknown> };
  return {
    type: s.resultType as 'file' | 'json',
    download_url: `${baseUrl}/api/v1/jobs/${jobId}/artifacts/${s.id}`,
    ...(data.mime_type ? { mime_type: data.mime_type } : {}),
    ...(data.file_size_bytes !== undefined ? { file_size_bytes: data.file_size_bytes } : {}),
    ...(data.data ? { data: data.data } : {}),
  };
}

export function toJobStep(s: StepFields, jobId: string, baseUrl: string): Schemas['JobStep'] {
  const result = stepResult(s, jobId, baseUrl);
  return {
    index: s.stepIndex,
    action_id: s.actionId,
    parameters: s.parameters as Record<string, unknown>,
    status: s.status,
    attempts: s.attempts,
    progress: Number(s.progress),
    started_at: iso(s.startedAt),
    completed_at: iso(s.completedAt),
    processing_time_ms: s.processingTimeMs ?? null,
    ...(s.status === 'failed' ? { error: { code: jobErrorCode(s.errorCode), message: s.errorMessage ?? '' } } : {}),
    ...(result ? { result } : {}),
  };
}

export function toJobArtifact(s: JobStep, jobId: string, baseUrl: string): Schemas['JobArtifact'] {
  const data = (s.resultData ?? {}) as { mime_type?: string; file_size_bytes?: number; data?: Record<string, unknown> };
  return {
    id: s.id,
    step_index: s.stepIndex,
    action_id: s.actionId,
    type: s.resultType as 'file' | 'json',
    ...(s.resultMedia ? { media_id: s.resultMedia.id } : {}),
    ...(data.mime_type ? { mime_type: data.mime_type } : {}),
    ...(data.file_size_bytes !== undefined ? { file_size_bytes: data.file_size_bytes } : {}),
    ...(data.data ? { data: data.data } : {}),
    download_url: `${baseUrl}/api/v1/jobs/${jobId}/artifacts/${s.id}`,
    created_at: (s.completedAt ?? s.createdAt).toISOString(),
  };
}
