import * as AnthropicErrors from '@anthropic-ai/sdk/error';
import * as OpenAIErrors from 'openai/error';
import { AI_PROVIDER_ERROR, AI_PROVIDER_UNAVAILABLE, type ProviderName, ProviderError } from './ports.js';

type SdkApiError = OpenAIErrors.APIError | AnthropicErrors.APIError;

const MAX_RETRY_AFTER_MS = 5 * 60_000;

/**
 * Maps what an SDK threw to an ProviderError the workflow understands: rate limits, 5xx, timeouts
 * and connection failures are worth retrying (Temporal does, with backoff; the SDKs do not);
 * a bad key, a refused or malformed request is not. Messages name the provider and the status,
 * never the request (which carries the key).
 */
export function toProviderError(provider: ProviderName, err: unknown, signal?: AbortSignal): Error {
  if (err instanceof ProviderError) return err;
  // A cancelled activity: let the abort propagate as it is.
  if (signal?.aborted || err instanceof OpenAIErrors.APIUserAbortError || err instanceof AnthropicErrors.APIUserAbortError) {
    return err instanceof Error ? err : new Error(String(err));
  }
  if (err instanceof OpenAIErrors.APIConnectionError || err instanceof AnthropicErrors.APIConnectionError) {
    const what = err instanceof OpenAIErrors.APIConnectionTimeoutError || err instanceof AnthropicErrors.APIConnectionTimeoutError ? 'timed out' : 'could not be reached';
    return new ProviderError(AI_PROVIDER_UNAVAILABLE, `${provider} ${what}`);
  }
  if (err instanceof OpenAIErrors.APIError || err instanceof AnthropicErrors.APIError) {
    return fromStatus(provider, err.status, providerMessage(err), retryAfterMs(err.headers));
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** 408, 409 (Anthropic's "overloaded" family), 429 and 5xx may pass; every other status will not. */
export function fromStatus(provider: ProviderName, status: number | undefined, detail: string, retryAfter?: number): ProviderError {
  const retryable = status === undefined || status === 408 || status === 409 || status === 429 || status >= 500;
  const message = `${provider} replied ${status ?? 'with an error'}${detail ? `: ${detail}` : ''}`;
  return retryable
    ? new ProviderError(AI_PROVIDER_UNAVAILABLE, message, { retryAfterMs: retryAfter })
    : new ProviderError(AI_PROVIDER_ERROR, message);
}

/** The provider's own error message (both APIs put it at error.message), trimmed. */
function providerMessage(err: SdkApiError): string {
  const body = err.error as { message?: unknown; error?: { message?: unknown } } | undefined;
  const msg = body?.error?.message ?? body?.message;
  return typeof msg === 'string' ? redactKeys(msg).slice(0, 300) : '';
}

// OpenAI echoes part of a wrong key in its 401 message ("Incorrect API key provided: sk-abc***"):
// keep anything key-shaped out of job rows and logs.
export function redactKeys(text: string): string {
  return text.replace(/\b(sk|key)-[A-Za-z0-9_*-]{3,}/g, '$1-***');
}

function retryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = headers?.get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return clamp(Number(ms));
  const raw = headers?.get('retry-after');
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return clamp(seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : clamp(date - Date.now());
}

const clamp = (ms: number) => Math.min(Math.max(Math.round(ms), 0), MAX_RETRY_AFTER_MS);
