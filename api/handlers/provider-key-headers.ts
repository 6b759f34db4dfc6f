import type { ProviderKeys } from '#workflows/types.js';
import type { AppContext } from '../handler.js';

/**
 * The request's own AI provider keys (X-OpenAI-API-Key, X-Anthropic-API-Key), already checked
 * against the spec's patterns, for every route that creates a job. They go to the job's workflow
 * input only (encrypted by the payload codec), never to the database or the logs.
 */
export function providerKeysOf(ctx: AppContext): ProviderKeys | undefined {
  const openai = ctx.get('x-openai-api-key') || undefined;
  const anthropic = ctx.get('x-anthropic-api-key') || undefined;
  return openai || anthropic ? { ...(openai ? { openai } : {}), ...(anthropic ? { anthropic } : {}) } : undefined;
}
