import type { AiProvider, AiRegistry, ProviderName } from './ports.js';
import type { AiConfig } from '../config.js';
import { createAnthropicProvider } from './anthropic.js';
import { createOpenAiProvider } from './openai.js';
import { createLocalSpeechProvider } from './pocketsphinx.js';
import { createAiRegistry } from './registry.js';
import { createTesseractProvider } from './tesseract.js';

/**
 * The providers configuration allows: OpenAI and Anthropic when they have a key, local Tesseract
 * (OCR) and local PocketSphinx (speech) always. The order is the fallback order when an action's
 * mapped provider has no key: OCR goes to local Tesseract before Anthropic and transcription to the
 * local engine, so both work out of the box and without surprise bills. `defaults` are the provider
 * each action declares by action id (the action registry's aiDefaults()); AI_PROVIDER_MAPPING's
 * entries win over them.
 */
export function createAiProviders(config: AiConfig, defaults: Readonly<Record<string, ProviderName>> = {}): AiRegistry {
  const timeoutMs = config.requestTimeoutMs;
  const providers: AiProvider[] = [];
  const { apiKey: openaiKey } = config.openai;
  if (openaiKey) providers.push(createOpenAiProvider({ ...config.openai, apiKey: openaiKey, timeoutMs }));
  providers.push(createTesseractProvider({ command: config.tesseract.command, timeoutMs }));
  providers.push(createLocalSpeechProvider({ ...config.local, timeoutMs }));
  const { apiKey: anthropicKey } = config.anthropic;
  if (anthropicKey) providers.push(createAnthropicProvider({ ...config.anthropic, apiKey: anthropicKey, timeoutMs }));
  return createAiRegistry(providers, { ...defaults, ...config.providerMapping });
}

/** The configuration with a request's own keys in place of the configured ones, for that request's job only. */
export function withProviderKeys(config: AiConfig, keys: { openai?: string; anthropic?: string }): AiConfig {
  return {
    ...config,
    openai: { ...config.openai, apiKey: keys.openai ?? config.openai.apiKey },
    anthropic: { ...config.anthropic, apiKey: keys.anthropic ?? config.anthropic.apiKey },
  };
}

export { createAiRegistry } from './registry.js';
