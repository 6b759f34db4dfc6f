// What actions may ask of AI providers. Implementations live in lib/ai/ (OpenAI, Anthropic,
// local Tesseract); the worker hands a registry in, tests aim the real SDKs at a local server.
// Providers throw ProviderError: AI_PROVIDER_UNAVAILABLE (worth retrying), AI_PROVIDER_ERROR (not)
// or INVALID_INPUT (the input itself cannot be used); the domain maps it to its ActionError.

export type ProviderName = 'openai' | 'anthropic' | 'tesseract' | 'local';
export const PROVIDER_NAMES: readonly ProviderName[] = ['openai', 'anthropic', 'tesseract', 'local'];

/** Retrying may help: rate limits, 5xx, timeouts, connection failures. */
export const AI_PROVIDER_UNAVAILABLE = 'AI_PROVIDER_UNAVAILABLE';
/** Retrying cannot help: bad key, refused request, unusable reply, no provider configured. */
export const AI_PROVIDER_ERROR = 'AI_PROVIDER_ERROR';

/** A failure the provider knows the cause of; any other error is a crash, retried as such. */
export class ProviderError extends Error {
  constructor(
    readonly type: string,
    message: string,
    /** retryAfterMs: when the provider says how long to wait (Retry-After). */
    readonly opts: { retryAfterMs?: number } = {},
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

export interface Usage {
  provider: ProviderName;
  model: string;
  inputTokens: number;
  outputTokens: number;
  /** Audio billed by duration (Whisper) rather than by tokens. */
  audioSeconds?: number;
}

export interface BBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface OcrResult {
  text: string;
  /** Words or lines with their box in pixels of the image handed in; confidence 0–1. */
  blocks: { text: string; confidence: number; bbox: BBox }[];
  usage?: Usage;
}

export interface ImageDescription {
  caption: string;
  tags: string[];
  objects: { label: string; confidence?: number }[];
  safety: Record<string, boolean>;
  usage?: Usage;
}

export interface TranscriptWord {
  word: string;
  start: number;
  end: number;
  /** 0–1, when the engine says. */
  confidence?: number;
}
export interface TranscriptSegment {
  id: number;
  start: number;
  end: number;
  text: string;
  speaker?: string;
  /** 0–1, when the engine says. */
  confidence?: number;
  /** The segment's words, when the engine times them. */
  words?: TranscriptWord[];
}
export interface Transcript {
  text: string;
  language?: string;
  duration?: number;
  segments: TranscriptSegment[];
  /** Word timings given apart from the segments (Whisper); they are sorted into the segments. */
  words?: TranscriptWord[];
  /** The engine's own model name (whisper-1, pocketsphinx-en-us, ...). */
  model?: string;
  usage?: Usage;
}

export interface TranscribeOptions {
  model?: string;
  language?: string;
  diarize?: boolean;
  prompt?: string;
  signal: AbortSignal;
  /** Fraction (0–1) of the audio done, for engines that can tell while they run. */
  onProgress?: (fraction: number) => void;
}

/** An image as handed to a provider: a file in a format every provider reads (PNG or JPEG). */
export interface ImageInput {
  path: string;
  mimeType: 'image/png' | 'image/jpeg';
  width: number;
  height: number;
}

/** An audio file; `filename` carries the extension providers use to tell the format. */
export interface AudioInput {
  path: string;
  filename: string;
  mimeType: string;
}

export interface AiCapabilities {
  ocr?(image: ImageInput, opts: { language?: string; signal: AbortSignal }): Promise<OcrResult>;
  describeImage?(image: ImageInput, opts: { signal: AbortSignal }): Promise<ImageDescription>;
  transcribe?(audio: AudioInput, opts: TranscribeOptions): Promise<Transcript>;
  /** Speech in any language to English text. */
  translateAudio?(audio: AudioInput, opts: { prompt?: string; signal: AbortSignal }): Promise<Transcript>;
  /** Translates several strings (transcript segments) in one request; same order, same count when it can. */
  translateText?(texts: string[], opts: { targetLanguage: string; signal: AbortSignal }): Promise<{ texts: string[]; usage?: Usage }>;
}
export type Capability = keyof AiCapabilities;

export interface AiProvider extends AiCapabilities {
  readonly name: ProviderName;
}

export interface AiRegistry {
  /**
   * The provider serving `capability` for an action: the one requested (which must be configured),
   * else the mapped one (the action's declared default or AI_PROVIDER_MAPPING's override) when it is
   * configured, else any configured provider that has the capability.
   * Throws a non-retryable AI_PROVIDER_ERROR ProviderError when none can.
   */
  forAction(actionId: string, capability: Capability, requested?: ProviderName): AiProvider;
  /** Configured providers only (those with a key, or local ones). */
  available(): ProviderName[];
}

/** Adds up usage from several calls to one provider (transcribe, then translate). */
export function addUsage(a: Usage | undefined, b: Usage | undefined): Usage | undefined {
  if (!a || !b) return a ?? b;
  return {
    provider: a.provider,
    model: a.model === b.model ? a.model : `${a.model}+${b.model}`,
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    ...(a.audioSeconds !== undefined || b.audioSeconds !== undefined ? { audioSeconds: (a.audioSeconds ?? 0) + (b.audioSeconds ?? 0) } : {}),
  };
}
