// The codes a failed job may carry (JobError.code in openapi/openapi.yaml lists the same, with what
// each means; tests/job-error-codes.unit.test.ts holds the two and every producer to each other).
// Plain data: the workflow bundle imports it.
export const JOB_ERROR_CODES = [
  'INVALID_INPUT',
  'AI_PROVIDER_ERROR',
  'TIMEOUT',
  'INVALID_ACTION',
  'PROCESSING_ERROR',
  'INFRASTRUCTURE_UNAVAILABLE',
  'INTERNAL',
  'SERVICE_UNAVAILABLE',
  'WORKFLOW_TERMINATED',
  'WORKFLOW_TIMED_OUT',
  'WORKFLOW_NOT_FOUND',
  'WORKFLOW_CLOSED',
] as const;

export type JobErrorCode = (typeof JOB_ERROR_CODES)[number];

/** The failure type an activity gives an infrastructure failure it could not get past (lib/infra-errors.ts). */
export const INFRASTRUCTURE = 'INFRASTRUCTURE';

// Failure types that reach the client under another documented code.
const ALIASES: Record<string, JobErrorCode> = {
  // A provider that stayed unavailable through every retry is, for the client, the provider's error.
  AI_PROVIDER_UNAVAILABLE: 'AI_PROVIDER_ERROR',
  [INFRASTRUCTURE]: 'INFRASTRUCTURE_UNAVAILABLE',
};

const KNOWN = new Set<string>(JOB_ERROR_CODES);

/** The documented code for a failure type: itself when documented, its alias, else PROCESSING_ERROR. */
export function jobErrorCode(type: string | undefined | null): JobErrorCode {
  if (type && KNOWN.has(type)) return type as JobErrorCode;
  return (type && ALIASES[type]) || 'PROCESSING_ERROR';
}
