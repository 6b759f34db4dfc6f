// Plain data shared by the API, the workflow and the activities. No runtime imports here:
// the workflow bundle must stay deterministic.
export interface ActivityPolicy {
  startToCloseMs: number;
  heartbeatMs: number;
  retry: { maximumAttempts: number; initialIntervalMs: number; backoffCoefficient: number; maximumIntervalMs: number };
  nonRetryableErrors: string[];
  /** Long input audio is cut into pieces transcribed (or translated) in parallel (workflows/transcribe-in-pieces.ts). */
  runsInPieces?: boolean;
}

/** Mirrors lib/infra-errors.ts's InfraRetryPolicy (the workflow bundle cannot import lib/). */
export interface InfraRetry {
  initialIntervalMs: number;
  maximumIntervalMs: number;
  giveUpAfterMs: number;
}

/** One step of a job: an action with its parameters and that action's timeouts and retry policy. */
export interface PipelineStep {
  actionId: string;
  parameters: Record<string, unknown>;
  policy: ActivityPolicy;
}

export interface ProcessJobInput {
  jobId: string;
  organizationId: string;
  /** The job's input file; a step's file result replaces it as the next step's input. */
  inputKey: string;
  inputMimeType: string;
  steps: PipelineStep[];
  /**
   * Outputs of steps that already succeeded, by step index: a run started by a retry request after
   * the previous run closed resumes from the first step without one.
   */
  completed?: (StepResult | null)[];
  retry: {
    /** How long a failed job waits for a retry signal before its workflow closes. */
    windowMs: number;
    maxRetries: number;
    /** Retries used so far (the job's retry_count when this run started). */
    count: number;
  };
  /** Set when this run was started by a retry request (the previous run had closed). */
  retriedBy?: string;
  /** How outages are retried apart from the action's attempts (INFRA_RETRY_*); absent: the workflow's defaults. */
  infraRetry?: InfraRetry;
  /** The request's own AI provider keys, else the organization's stored ones (decrypted by the API): only ever in (codec-encrypted) workflow input. */
  providerKeys?: ProviderKeys;
}

/** AI provider keys for one job alone: a request's headers (X-OpenAI-API-Key, X-Anthropic-API-Key) or its organization's stored keys. */
export interface ProviderKeys {
  openai?: string;
  anthropic?: string;
}

export interface RunActionInput {
  jobId: string;
  organizationId: string;
  actionId: string;
  inputKey: string;
  inputMimeType: string;
  parameters: Record<string, unknown>;
  /** Position in the pipeline (0-based; default 0 of 1): scales progress and names the result object. */
  stepIndex?: number;
  totalSteps?: number;
  /** Used instead of the configured provider keys for this run only. */
  providerKeys?: ProviderKeys;
  /** The action's attempt when the workflow counts attempts itself (workflows/step-attempts.ts); else Temporal's. */
  attempt?: number;
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

export interface JobError {
  code: string;
  message: string;
}

export type { JobStatus } from './job-status.js';
import type { JobStatus } from './job-status.js';

export interface JobState {
  jobId: string;
  status: JobStatus;
  currentStep: number;
  totalSteps: number;
  /** True while a failed job waits for a retry signal. */
  awaitingRetry: boolean;
  retryCount: number;
  error?: JobError;
}

/** Who cancels and why (the cancel signal's argument). */
export interface CancelRequest {
  by: string;
  reason?: string;
}
/** Who asks for a retry (the retry signal's argument). */
export interface RetryRequest {
  by: string;
}

export type JobEventName = 'job.completed' | 'job.failed' | 'job.cancelled' | 'job.progress';
export interface PublishJobEventInput {
  organizationId: string;
  jobId: string;
  event: JobEventName;
  data: Record<string, unknown>;
}

export const workflowIdForJob = (jobId: string): string => `job-${jobId}`;

/** A step that transcribes audio which may be too long for its provider in one request. */
export interface TranscriptionStepInput {
  jobId: string;
  organizationId: string;
  /** The step's action (one with `pieces`); absent in workflows started when only aud_transcribe ran in pieces. */
  actionId?: string;
  inputKey: string;
  inputMimeType: string;
  parameters: Record<string, unknown>;
  stepIndex: number;
  totalSteps: number;
  providerKeys?: ProviderKeys;
}

/** A piece of the input: 16 kHz mono WAV in storage, starting `offset` seconds into the recording. */
export interface TranscriptionPiece {
  key: string;
  offset: number;
  duration: number;
}

/** No pieces: the input fits its provider and the step runs as usual. */
export interface TranscriptionPlan {
  pieces: TranscriptionPiece[];
  durationSeconds: number;
  /** Set when the job store already holds the step's output or the job as terminal: nothing to run. */
  outcome?: { result: StepResult } | { terminal: 'completed' | 'failed' | 'cancelled' };
}

export interface TranscribePieceInput extends Omit<TranscriptionStepInput, 'inputKey' | 'inputMimeType'> {
  piece: TranscriptionPiece;
  pieceCount: number;
}

export interface StitchTranscriptionInput extends Omit<TranscriptionStepInput, 'inputKey' | 'inputMimeType'> {
  durationSeconds: number;
  pieces: { offset: number; duration: number; transcriptKey: string; provider: string }[];
  inputSizeBytes: number | null;
  completesJob: boolean;
}
