import type { MasterKey } from '../keyring.js';
import type { EnvReader } from './reader.js';
import { readLocalSpeech, type LocalSpeechConfig } from './speech.js';

export type AiProviderName = 'openai' | 'anthropic' | 'tesseract' | 'local';
const AI_PROVIDERS: readonly AiProviderName[] = ['openai', 'anthropic', 'tesseract', 'local'];

/** AI providers. Keys come from here only and must never be logged. */
export interface AiConfig {
  openai: {
    apiKey?: string;
    baseUrl: string;
    visionModel: string;
    transcribeModel: string;
    chatModel: string;
    /** Largest audio file the transcription endpoints accept; longer audio is cut into pieces below it. */
    maxAudioBytes: number;
  };
  anthropic: { apiKey?: string; baseUrl: string; model: string };
  tesseract: { command: string };
  local: LocalSpeechConfig;
  /**
   * AI_PROVIDER_MAPPING's `action=provider` entries: they override the provider each action declares
   * as its default (the action definition's `ai.provider`). Empty unless set.
   */
  providerMapping: Record<string, AiProviderName>;
  /** Per provider request; the activity's own timeout bounds the whole action. */
  requestTimeoutMs: number;
  /** Keyring encrypting organizations' stored provider keys (PROVIDER_KEYS_MASTER_KEYS, first = primary); used by the API only. */
  providerKeysMasterKeys: MasterKey[];
}

export function readAi(r: EnvReader, shared: { production: boolean; ffmpegPath: string }): AiConfig {
  return {
    openai: {
      apiKey: r.optional('OPENAI_API_KEY'),
      baseUrl: r.url('OPENAI_BASE_URL', 'https://api.openai.com/v1').href.replace(/\/$/, ''),
      visionModel: r.string('OPENAI_VISION_MODEL', 'gpt-4o-mini'),
      transcribeModel: r.string('OPENAI_TRANSCRIBE_MODEL', 'whisper-1'),
      chatModel: r.string('OPENAI_CHAT_MODEL', 'gpt-4o-mini'),
      maxAudioBytes: r.size('OPENAI_AUDIO_MAX_BYTES', '25MiB', { unit: 'B', min: '256KiB', max: '25MiB' }),
    },
    anthropic: {
      apiKey: r.optional('ANTHROPIC_API_KEY'),
      baseUrl: r.url('ANTHROPIC_BASE_URL', 'https://api.anthropic.com').href.replace(/\/$/, ''),
      model: r.string('ANTHROPIC_MODEL', 'claude-sonnet-5-5'),
    },
    tesseract: { command: r.string('TESSERACT_PATH', 'tesseract') },
    local: readLocalSpeech(r, { ffmpegPath: shared.ffmpegPath }),
    providerMapping: providerMapping(r),
    requestTimeoutMs: r.duration('AI_REQUEST_TIMEOUT_MS', '120s', { unit: 'ms', min: '1s' }),
    providerKeysMasterKeys: r.keyring('PROVIDER_KEYS_MASTER_KEYS', shared),
  };
}

// "<action id>=tesseract,<action id>=openai": entries override the actions' own default providers.
function providerMapping(r: EnvReader): Record<string, AiProviderName> {
  const mapping: Record<string, AiProviderName> = {};
  const entries = r.list('AI_PROVIDER_MAPPING', [], (entry) => {
    const [action, provider, extra] = entry.split('=').map((p) => p.trim());
    if (!action || extra !== undefined || !(AI_PROVIDERS as readonly string[]).includes(provider ?? '')) {
      return { problem: `action=provider with provider one of ${AI_PROVIDERS.join(', ')}` };
    }
    return { value: `${action}=${provider}` };
  });
  for (const entry of entries) {
    const [action, provider] = entry.split('=') as [string, AiProviderName];
    mapping[action] = provider;
  }
  return mapping;
}
