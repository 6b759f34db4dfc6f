// What actions may ask of AI providers. Implementations live in lib/ai/ (OpenAI, Anthropic,
// local Tesseract); the worker hands a registry in, tests aim the real SDKs at a local server.

export type ProviderName = 'openai' | 'anthropic' | 'tesseract';

export interface Usage {
  provider: ProviderName;
  model: string;
  inputTokens: number;
  outputTokens: number;
}

export interface OcrResult {
  text: string;
  blocks: { text: string; confidence: number; bbox: { left: number; top: number; width: number; height: number } }[];
  usage?: Usage;
}

export interface ImageDescription {
  caption: string;
  tags: string[];
  objects: { label: string; confidence?: number }[];
  safety: Record<string, boolean>;
  usage?: Usage;
}

export interface TranscriptSegment {
  id: number;
  start: number;
  end: number;
  text: string;
  speaker?: string;
}
export interface Transcript {
  text: string;
  language?: string;
  duration?: number;
  segments: TranscriptSegment[];
  words?: { word: string; start: number; end: number }[];
  usage?: Usage;
}

export interface AiCapabilities {
  ocr?(imagePath: string, mimeType: string, opts: { language?: string; signal: AbortSignal }): Promise<OcrResult>;
  describeImage?(imagePath: string, mimeType: string, opts: { detail?: string; signal: AbortSignal }): Promise<ImageDescription>;
  transcribe?(audioPath: string, opts: { model?: string; language?: string; diarize?: boolean; prompt?: string; signal: AbortSignal }): Promise<Transcript>;
  translateAudio?(audioPath: string, opts: { model?: string; signal: AbortSignal }): Promise<Transcript>;
  translateText?(text: string, opts: { targetLanguage: string; signal: AbortSignal }): Promise<{ text: string; usage?: Usage }>;
}

export interface AiProvider extends AiCapabilities {
  readonly name: ProviderName;
}

export interface AiRegistry {
  /** The provider for an action: the one requested, else the configured mapping, else a fallback that is configured. */
  forAction(actionId: string, requested?: ProviderName): AiProvider;
  /** Configured providers only (those with a key, or local ones). */
  available(): ProviderName[];
}
