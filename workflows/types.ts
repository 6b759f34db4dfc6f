// Plain data shared by the API, the workflow and the activities. No runtime imports here:
// the workflow bundle must stay deterministic.
export interface ActivityPolicy {
  startToCloseMs: number;
  heartbeatMs: number;
  retry: { maximumAttempts: number; initialIntervalMs: number; backoffCoefficient: number; maximumIntervalMs: number };
  nonRetryableErrors: string[];
}

export interface ProcessJobInput {
  jobId: string;
  organizationId: string;
  actionId: string;
  inputKey: string;
  inputMimeType: string;
  parameters: Record<string, unknown>;
  policy: ActivityPolicy;
}

export interface RunActionInput {
  jobId: string;
  organizationId: string;
  actionId: string;
  inputKey: string;
  inputMimeType: string;
  parameters: Record<string, unknown>;
}

export type StepResult =
  | { type: 'file'; key: string; mimeType: string; extension: string; sizeBytes: number;
      checksumMd5: string; checksumSha256: string; data?: Record<string, unknown> }
  | { type: 'json'; data: Record<string, unknown>; usage?: AiUsage };

/** What an AI provider billed for a step; recorded on the job. */
export interface AiUsage {
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
}

export interface JobState {
  jobId: string;
  status: 'queued' | 'processing' | 'completed' | 'failed';
  error?: { code: string; message: string };
}

export const workflowIdForJob = (jobId: string): string => `job-${jobId}`;
