import type { components } from './generated/openapi.js';
import type { JobRow } from './services/job-service.js';
import type { MediaFileRow } from './services/media-service.js';

type Schemas = components['schemas'];
const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

export function toMediaFile(m: MediaFileRow, baseUrl: string): Schemas['MediaFile'] {
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
  };
}

export function toJob(j: JobRow, baseUrl: string): Schemas['Job'] {
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
    completed_at: iso(j.completedAt),
    processing_time_ms: j.processingTimeMs ?? null,
  };
  if (j.workflowId) job.workflow_id = j.workflowId;
  if (j.status === 'failed') job.error = { code: j.errorCode ?? 'PROCESSING_ERROR', message: j.errorMessage ?? '' };
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
