import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '#activities/index.js';
import type { ProviderKeys } from './types.js';

/** Everything the import needs, decided by the API when it accepted the request. */
export interface ImportMediaInput {
  importId: string;
  organizationId: string;
  url: string;
  filename?: string;
  userId?: string;
  apiKeyId?: string;
  /** The organization's cap on one file (the media-type limits and IMPORT_MAX_BYTES also apply). */
  maxFileSizeBytes?: number;
  retentionDays: number;
  /** The whole download, including every redirect. */
  timeoutMs: number;
  /** The media type the requested job's action needs: any other is refused before it is stored. */
  expectMediaType?: 'image' | 'audio';
  /** The request's own AI provider keys, for the requested job (this input is encrypted in history). */
  providerKeys?: ProviderKeys;
}

export const workflowIdForImport = (importId: string): string => `import-${importId}`;

/** Error codes of an import that no retry can fix. */
export const IMPORT_NON_RETRYABLE = [
  'BLOCKED_ADDRESS',
  'FILE_TOO_LARGE',
  'INVALID_FILE_TYPE',
  'IMPORT_HTTP_ERROR',
  'IMPORT_TIMEOUT',
  'TOO_MANY_REDIRECTS',
  'VALIDATION_ERROR',
  'INVALID_ACTION',
  'NOT_FOUND',
];

const bookkeeping = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * One import: download into a media file with the import's id, then, when the request asked for
 * it, submit its job the way POST /api/v1/process does. The import record follows every step.
 */
export async function importMedia(input: ImportMediaInput): Promise<{ mediaId: string; jobId?: string }> {
  const { fetchImport, submitImportJob } = proxyActivities<Activities>({
    // fetchImport stops itself at timeoutMs; the margin covers recording the file.
    startToCloseTimeout: input.timeoutMs + 60_000,
    retry: { maximumAttempts: 3, initialInterval: '2 seconds', backoffCoefficient: 2, nonRetryableErrorTypes: IMPORT_NON_RETRYABLE },
  });
  await bookkeeping.markImportRunning(input.importId);
  let mediaId: string | undefined;
  try {
    mediaId = (await fetchImport(input)).mediaId;
    const jobId = (await submitImportJob(input.importId, input.providerKeys)) ?? undefined;
    await bookkeeping.completeImport(input.importId, { mediaId, jobId });
    return { mediaId, jobId };
  } catch (err) {
    const error = describeFailure(err);
    // A file imported but whose job could not be submitted is kept, and named on the failed import.
    await bookkeeping.failImport(input.importId, { ...error, mediaId });
    throw ApplicationFailure.nonRetryable(error.message, error.code);
  }
}

function describeFailure(err: unknown): { code: string; message: string } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { code: cause.type ?? 'IMPORT_FAILED', message: cause.message };
  if (cause instanceof Error && cause.name === 'TimeoutFailure') return { code: 'IMPORT_TIMEOUT', message: 'the download did not finish in time' };
  return { code: 'IMPORT_FAILED', message: cause instanceof Error ? cause.message : String(cause) };
}
