import type { EnvReader } from './reader.js';

/** Outbound webhook deliveries (see lib/webhooks). */
export interface WebhookConfig {
  /** Encrypts endpoint signing secrets at rest (AES-256-GCM, key derived from this); '' in production when unset. */
  secretKey: string;
  /** CIDRs exempt from the private/loopback/link-local deny list (WEBHOOK_ALLOWED_CIDRS); empty by default. */
  allowedCidrs: string[];
  /** Per attempt, until the response is read. */
  timeoutMs: number;
  /** Exponential backoff (coefficient 2) from initialIntervalMs up to maximumIntervalMs, given up after giveUpAfterMs. */
  retry: { initialIntervalMs: number; maximumIntervalMs: number; giveUpAfterMs: number };
}

export function readWebhooks(r: EnvReader, { production }: { production: boolean }): WebhookConfig {
  return {
    secretKey: r.secret('WEBHOOK_SECRET_KEY', { production, minBytes: 32 }),
    allowedCidrs: r.cidrList('WEBHOOK_ALLOWED_CIDRS'),
    timeoutMs: r.duration('WEBHOOK_TIMEOUT_MS', '30s', { unit: 'ms', min: '1s', max: '5m' }),
    retry: {
      initialIntervalMs: r.duration('WEBHOOK_RETRY_INITIAL_MS', '30s', { unit: 'ms', min: '10ms' }),
      maximumIntervalMs: r.duration('WEBHOOK_RETRY_MAX_INTERVAL_MS', '1h', { unit: 'ms', min: '10ms' }),
      giveUpAfterMs: r.duration('WEBHOOK_RETRY_FOR_MS', '72h', { unit: 'ms', min: '1s' }),
    },
  };
}
