// What the AI actions share: their timeouts and retry policy, a heartbeat while a provider thinks,
// and usage in the snake_case shape results carry.
import { AI_PROVIDER_ERROR, type Usage } from '#lib/ai/ports.js';
import { INVALID_INPUT, type ActionContext, type RetryPolicy } from './types.js';

/** Provider requests time out on their own (AI_REQUEST_TIMEOUT_MS); this bounds a whole attempt. */
export const AI_TIMEOUTS = { startToCloseMs: 10 * 60_000, heartbeatMs: 30_000 };
/** Rate limits and 5xx are retried with backoff here, never inside the SDKs. */
export const AI_RETRY: RetryPolicy = { maximumAttempts: 5, initialIntervalMs: 1_000, backoffCoefficient: 2, maximumIntervalMs: 60_000 };
export const AI_NON_RETRYABLE = [INVALID_INPUT, AI_PROVIDER_ERROR];

const BEAT_MS = 10_000;

/**
 * Runs a provider call, heartbeating at `fraction` meanwhile: a request may outlast the heartbeat
 * timeout. A function gives the fraction reached so far (a provider that reports progress).
 */
export async function withHeartbeat<T>(ctx: ActionContext<unknown>, fraction: number | (() => number), fn: () => Promise<T>): Promise<T> {
  const at = typeof fraction === 'function' ? fraction : () => fraction;
  ctx.progress(at());
  const beat = setInterval(() => ctx.progress(at()), BEAT_MS);
  try {
    return await fn();
  } finally {
    clearInterval(beat);
  }
}

export const usageSchema = {
  type: 'object',
  required: ['provider', 'model', 'input_tokens', 'output_tokens'],
  properties: {
    provider: { type: 'string' },
    model: { type: 'string' },
    input_tokens: { type: 'integer', minimum: 0 },
    output_tokens: { type: 'integer', minimum: 0 },
    audio_seconds: { type: 'number', minimum: 0 },
  },
};

export function usageData(u: Usage): Record<string, unknown> {
  return {
    provider: u.provider,
    model: u.model,
    input_tokens: u.inputTokens,
    output_tokens: u.outputTokens,
    ...(u.audioSeconds !== undefined ? { audio_seconds: u.audioSeconds } : {}),
  };
}

/** Usage as the job row records it (provider and total tokens). */
export const stepUsage = (u: Usage) => ({ provider: u.provider, model: u.model, inputTokens: u.inputTokens, outputTokens: u.outputTokens });
