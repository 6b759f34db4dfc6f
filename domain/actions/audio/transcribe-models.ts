// The `model` choice of aud_transcribe and what each provider offers for it.
import type { ProviderName } from '#lib/ai/ports.js';

export const WHISPER_SIZES = ['tiny', 'small', 'medium', 'large-v3'] as const;
export const OPENAI_MODELS = ['whisper-1', 'gpt-4o-transcribe', 'gpt-4o-mini-transcribe'] as const;
export const TRANSCRIBE_MODELS = ['auto', 'local', ...WHISPER_SIZES, ...OPENAI_MODELS] as const;
export type TranscribeModel = (typeof TRANSCRIBE_MODELS)[number];

/** Whisper as a service: OpenAI serves one Whisper model, whisper-1, for every size asked for. */
const OPENAI_WHISPER = 'whisper-1';

export interface ModelRoute {
  /** Undefined: the configured provider for transcription (OpenAI with a key, else local). */
  provider?: ProviderName;
  /** The provider's own model; undefined: its default. */
  providerModel?: string;
}

export function routeModel(model: TranscribeModel, diarize: boolean): ModelRoute {
  if (model === 'local') return { provider: 'local' };
  if ((WHISPER_SIZES as readonly string[]).includes(model)) return { provider: 'openai', providerModel: OPENAI_WHISPER };
  if (model !== 'auto') return { provider: 'openai', providerModel: model };
  // Only OpenAI labels speakers.
  return diarize ? { provider: 'openai' } : {};
}

/** Why the parameters cannot run with these providers, by parameter; empty when they can. */
export function modelAvailability(
  params: { model: TranscribeModel; diarize: boolean; language: string },
  providers: readonly ProviderName[],
): Record<string, string> {
  const route = routeModel(params.model, params.diarize);
  const provider = route.provider ?? (providers.includes('openai') ? 'openai' : 'local');
  if (provider === 'openai' && !providers.includes('openai')) {
    const what = params.model === 'auto' ? 'diarization' : `model ${params.model}`;
    return {
      [params.model === 'auto' ? 'diarize' : 'model']:
        `${what} runs on OpenAI, and no OpenAI key is configured for this organization or sent as X-OpenAI-API-Key; model local transcribes English without a key`,
    };
  }
  if (provider === 'local') {
    if (params.diarize) return { diarize: 'the local speech engine cannot tell speakers apart; diarization needs an OpenAI model' };
    if (params.language !== 'auto' && params.language !== 'en') {
      return { language: `the local speech engine recognises English (en) only; ${params.language} needs an OpenAI model` };
    }
  }
  return {};
}
