import type { AiProvider, AiRegistry, ProviderName } from '../../activities/actions/ai.js';
import { AppError } from '../errors.js';

/** Builds the registry from the providers that are configured. */
export function createAiRegistry(providers: AiProvider[], mapping: Record<string, ProviderName> = {}): AiRegistry {
  const byName = new Map(providers.map((p) => [p.name, p]));
  return {
    available: () => [...byName.keys()],
    forAction(actionId, requested) {
      const name = requested ?? mapping[actionId];
      const provider = name ? byName.get(name) : undefined;
      if (!provider) {
        throw new AppError(502, 'AI_PROVIDER_ERROR', `No AI provider is configured for ${actionId}${name ? ` (wanted ${name})` : ''}`);
      }
      return provider;
    },
  };
}
