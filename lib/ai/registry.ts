import { AI_PROVIDER_ERROR, type AiProvider, type AiRegistry, type ProviderName, ProviderError } from './ports.js';

/**
 * Builds the registry from the providers that are configured. A provider asked for by name must
 * be configured; otherwise the mapping's choice is used when configured, else the first configured
 * provider that can do the job (so OCR falls back to local Tesseract without an OpenAI key).
 */
export function createAiRegistry(providers: AiProvider[], mapping: Record<string, ProviderName> = {}): AiRegistry {
  const byName = new Map(providers.map((p) => [p.name, p]));
  return {
    available: () => [...byName.keys()],
    forAction(actionId, capability, requested) {
      if (requested) {
        const provider = byName.get(requested);
        if (!provider) throw new ProviderError(AI_PROVIDER_ERROR, `AI provider ${requested} is not configured`);
        if (!provider[capability]) throw new ProviderError(AI_PROVIDER_ERROR, `AI provider ${requested} cannot serve ${actionId}`);
        return provider;
      }
      const mapped = mapping[actionId] ? byName.get(mapping[actionId]) : undefined;
      const provider = mapped?.[capability] ? mapped : providers.find((p) => p[capability]);
      if (!provider) {
        const wanted = mapping[actionId] ? ` (mapped to ${mapping[actionId]}, which is not configured)` : '';
        throw new ProviderError(AI_PROVIDER_ERROR, `No configured AI provider can serve ${actionId}${wanted}`);
      }
      return provider;
    },
  };
}
