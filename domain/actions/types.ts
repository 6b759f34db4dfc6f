import type { Logger } from '#lib/logger.js';
import { ProviderError, type AiRegistry, type AudioInput, type ProviderName, type Transcript } from '#lib/ai/ports.js';
import type { PriceTier } from '#lib/credits.js';
import type { AiUsage } from '#workflows/types.js';
import type { FromSchema, ParametersSchema } from './from-schema.js';
import type { Ffmpeg } from '../media/ffmpeg.js';

export type { PriceTier };
export type MediaKind = 'image' | 'audio';
export type ResultType = 'file' | 'json' | 'files';
export type JsonSchema = Record<string, unknown>;

export interface ActionLimits {
  /** timeoutSeconds: libvips stops a decode or encode after this long (IMAGE_PROCESSING_TIMEOUT_SECONDS). */
  image: { maxResolution: number; timeoutSeconds?: number };
  /** durationMarginSeconds: how far past the duration measured at upload ffmpeg may read (AUDIO_DURATION_MARGIN_SECONDS). */
  audio: { maxDurationSeconds: number; durationMarginSeconds?: number };
}

/** What the upload measured of a step's input, when it is an uploaded file (not an earlier step's result). */
export interface InputMeasures {
  width?: number;
  height?: number;
  durationSeconds?: number;
}

export interface ActionContext<P> {
  /**
   * Local path of the input file; the activity downloaded it. For an action with `inMemoryInput`
   * given `inputBuffer`, no file is written there: the action reads the buffer.
   */
  inputPath: string;
  /** The whole input, when it is small and the action reads it from memory (`inMemoryInput`). */
  inputBuffer?: Buffer;
  inputMimeType: string;
  /** A private directory for outputs, removed after the activity. */
  workDir: string;
  /** Parameters already validated against `parametersSchema`, defaults applied. */
  params: P;
  limits: ActionLimits;
  /** What the upload measured of the input (absent for an earlier step's result). */
  input?: InputMeasures;
  /** Reports progress (0–1); also the activity's heartbeat. */
  progress(fraction: number): void;
  /** Aborted when the activity is cancelled. */
  signal: AbortSignal;
  logger: Logger;
  /** AI providers (OpenAI, Anthropic, local Tesseract) for actions that need them. */
  ai: AiRegistry;
  /** ffmpeg and ffprobe as configured (FFMPEG_PATH, FFPROBE_PATH), for the audio actions. */
  ffmpeg: Ffmpeg;
}

export type ActionOutput =
  | { type: 'file'; path: string; mimeType: string; extension: string; data?: Record<string, unknown> }
  | { type: 'json'; data: Record<string, unknown>; usage?: AiUsage };

/** An AI action's defaults, declared on the action so configuration need not know action ids. */
export interface ActionAiDefaults {
  /**
   * The provider used when the request names none (AI_PROVIDER_MAPPING may override it per action
   * id). When it is not configured (no key), the first configured provider with the capability is.
   */
  provider: ProviderName;
}

export interface RetryPolicy {
  maximumAttempts: number;
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
}

/** One action plugin: everything the API, the workflow and the worker need to know about it. */
export interface ActionDefinition<P = Record<string, unknown>> {
  actionId: string;
  displayName: string;
  buttonLabel: string;
  description: string;
  icon: string;
  mediaType: MediaKind;
  /**
   * What a successful step of this action costs (lib/credits.ts: transcribe 5 credits, modify and
   * process 1, plus AI tokens). A price class only: the API shows it as `category`, the jobs table
   * stores it as `action_category`.
   */
  priceTier: PriceTier;
  parametersSchema: JsonSchema;
  outputSchema: JsonSchema;
  resultType: ResultType;
  /** Media type of a file result when it differs from `mediaType` (a pipeline's next step gets it). */
  outputMediaType?: MediaKind;
  timeouts: { startToCloseMs: number; heartbeatMs: number };
  retry: RetryPolicy;
  /** Error types (ActionError.type) that retrying cannot fix. */
  nonRetryableErrors: string[];
  /** For actions that call AI providers: what they use when the request names no provider. */
  ai?: ActionAiDefaults;
  /**
   * Long input audio (longer than its provider takes) is cut at silences and its pieces run in
   * parallel by the job's workflow (workflows/transcribe-in-pieces.ts, activities/transcription/):
   * how this action does one piece and what the joined pieces give.
   */
  pieces?: AudioPieces<P>;
  /**
   * The action reads `inputBuffer` when it is given: a small input is then downloaded to memory
   * and never written to a temporary file (large ones still stream to disk).
   */
  inMemoryInput?: boolean;
  /**
   * Checks valid parameters against what this submission can reach (the providers with a key,
   * configured, stored for the organization or sent with the request): a parameter that names
   * something unavailable is refused at submission, not when the job runs. Returns one message
   * per parameter, keyed by its name.
   */
  checkAvailability?(params: P, providers: readonly ProviderName[]): Record<string, string>;
  /**
   * Checks valid parameters against the platform's limits, and the input when it is known (the
   * first step's uploaded file): a result that could only be refused later (an image over
   * max_resolution) is refused at submission. One message per parameter, keyed by its name.
   */
  checkLimits?(params: P, limits: ActionLimits, input?: InputMeasures): Record<string, string>;
  run(ctx: ActionContext<P>): Promise<ActionOutput>;
}

/**
 * An action over speech whose long input runs in pieces: each piece is a 16 kHz mono WAV, its
 * transcript's times relative to the piece; the activities join the pieces' transcripts with
 * absolute times (and add up their usage) before `result` turns the whole into the step's output.
 */
export interface AudioPieces<P> {
  /** The provider the parameters choose, which decides how large a piece may be (throws a non-retryable ActionError when none is configured). */
  provider(ai: AiRegistry, params: P): ProviderName;
  /** One piece (or the whole input): its transcript (translated, for a translation) and the provider that made it. */
  run(ai: AiRegistry, params: P, audio: AudioInput, opts: { signal: AbortSignal; onProgress?: (fraction: number) => void }): Promise<{ transcript: Transcript; provider: string }>;
  result(transcript: Transcript, provider: string, params: P, durationSeconds: number): Extract<ActionOutput, { type: 'json' }>;
}

/** Raised by actions for failures caused by the input, not by infrastructure. */
export class ActionError extends Error {
  constructor(
    readonly type: string,
    message: string,
    /** retryAfterMs: when the failure says how long to wait (a provider's Retry-After). */
    readonly opts: { retryAfterMs?: number } = {},
  ) {
    super(message);
    this.name = 'ActionError';
  }
}

/**
 * What an action's failure is to the workflow: a provider's known failure (lib/ai's ProviderError)
 * becomes the ActionError of the same type, message and retry hint; anything else stays as it is.
 */
export function asActionError(err: unknown): unknown {
  return err instanceof ProviderError ? new ActionError(err.type, err.message, err.opts) : err;
}

export const INVALID_INPUT = 'INVALID_INPUT';

export const defaultRetry: RetryPolicy = {
  maximumAttempts: 5,
  initialIntervalMs: 1_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 30_000,
};

/**
 * Declares an action plugin. Its parameters' type is derived from its parameters schema (declared
 * `as const`; see from-schema.ts), so `run` and the checks see what the schema accepts, defaults
 * filled in. Export it for others as `FromSchema<typeof parameters>`.
 */
export function defineAction<const S extends ParametersSchema>(
  action: Omit<ActionDefinition<FromSchema<S>>, 'parametersSchema'> & { parametersSchema: S },
): ActionDefinition<FromSchema<S>> {
  return action;
}
