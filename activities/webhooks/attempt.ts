import { ApplicationFailure } from '@temporalio/activity';
import { WebhookAttemptSchema, WebhookDeliverySchema, WebhookEndpointSchema } from '#entities/index.js';
import { createAddressPolicy, type AddressPolicy } from '#lib/net/address-policy.js';
import { BlockedAddressError, safeRequest } from '#lib/net/safe-request.js';
import { createSecretBox } from '#lib/webhooks/secret-box.js';
import { signedHeaders } from '#lib/webhooks/signing.js';
import type { ActivityDeps } from '../deps.js';
import { webhookConfigOf } from './config.js';

const RESPONSE_BODY_LIMIT = 64 * 1024;

interface Outcome {
  statusCode: number | null;
  error: string | null;
  refused: boolean;
}

/**
 * One HTTP attempt of a delivery, recorded whatever happens. A 2xx succeeds; 410 Gone disables the
 * endpoint; a refused address fails for good; anything else (3xx included: redirects are not
 * followed) throws for the workflow's retry policy.
 */
export function createAttemptWebhookDelivery(deps: ActivityDeps) {
  let policy: AddressPolicy | undefined;
  return async function attemptWebhookDelivery(deliveryId: string): Promise<void> {
    policy ??= createAddressPolicy(webhookConfigOf(deps).allowedCidrs);
    const em = deps.orm.em.fork();
    const delivery = await em.findOne(WebhookDeliverySchema, { id: deliveryId });
    if (!delivery) throw ApplicationFailure.nonRetryable('the delivery no longer exists', 'WebhookDeliveryMissing');
    if (delivery.status === 'succeeded') return;
    const endpoint = await em.findOneOrFail(WebhookEndpointSchema, { id: delivery.endpoint.id }, { populate: ['secretSealed', 'previousSecretSealed'] });
    if (endpoint.status !== 'active') {
      await fail(deliveryId, 'the endpoint is disabled');
      throw ApplicationFailure.nonRetryable('the endpoint is disabled', 'WebhookEndpointInactive');
    }

    const box = createSecretBox(webhookConfigOf(deps).secretKey);
    const startedAt = deps.clock.now();
    const secrets = [box.open(endpoint.secretSealed)];
    if (endpoint.previousSecretSealed && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > startedAt) {
      secrets.push(box.open(endpoint.previousSecretSealed));
    }
    const [counted] = await em.execute<{ attempt_count: number }[]>(
      'update webhook_deliveries set attempt_count = attempt_count + 1 where id = ? returning attempt_count',
      [deliveryId],
    );
    const attemptNumber = counted?.attempt_count ?? delivery.attemptCount + 1;
    const outcome = await send(endpoint.url, signedHeaders(secrets, delivery.id, Math.floor(startedAt.getTime() / 1000), delivery.body), delivery.body);
    const durationMs = Math.max(0, deps.clock.now().getTime() - startedAt.getTime());
    const succeeded = outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300;
    const gone = outcome.statusCode === 410;
    const final = succeeded || gone || outcome.refused;

    await em.transactional(async (tx) => {
      // The endpoint (and with it the delivery) may have been deleted during the request.
      if (!(await tx.count(WebhookDeliverySchema, { id: deliveryId }))) throw ApplicationFailure.nonRetryable('the delivery no longer exists', 'WebhookDeliveryMissing');
      tx.create(WebhookAttemptSchema, { delivery: deliveryId, attemptNumber, startedAt, durationMs, statusCode: outcome.statusCode, error: outcome.error, succeeded });
      await tx.nativeUpdate(
        WebhookDeliverySchema,
        { id: deliveryId },
        {
          lastStatusCode: outcome.statusCode,
          lastError: outcome.error,
          ...(final ? { status: succeeded ? 'succeeded' : 'failed', completedAt: deps.clock.now() } : {}),
        },
      );
      if (gone) {
        await tx.nativeUpdate(WebhookEndpointSchema, { id: endpoint.id }, { status: 'disabled', disabledReason: `410 Gone on ${startedAt.toISOString()}`, updatedAt: deps.clock.now() });
      }
    });
    if (succeeded) return;
    if (gone) throw ApplicationFailure.nonRetryable('the endpoint answered 410 Gone and was disabled', 'WebhookEndpointGone');
    if (outcome.refused) throw ApplicationFailure.nonRetryable(outcome.error ?? 'refused address', 'WebhookAddressRefused');
    throw ApplicationFailure.retryable(outcome.error ?? `answered ${outcome.statusCode}`, 'WebhookAttemptFailed');
  };

  async function send(url: string, signature: Record<string, string>, body: string): Promise<Outcome> {
    const signal = AbortSignal.timeout(webhookConfigOf(deps).timeoutMs);
    try {
      const res = await safeRequest(url, {
        policy: policy!,
        method: 'POST',
        headers: { ...signature, 'content-type': 'application/json', 'user-agent': 'Mediaflow-Webhooks/1' },
        body,
        timeoutMs: webhookConfigOf(deps).timeoutMs,
        maxRedirects: 0,
        signal,
      });
      await drain(res.body, RESPONSE_BODY_LIMIT);
      const ok = res.status >= 200 && res.status < 300;
      return { statusCode: res.status, error: ok ? null : describeStatus(res.status), refused: false };
    } catch (err) {
      if (err instanceof BlockedAddressError) return { statusCode: null, error: `refused: ${err.message}`, refused: true };
      const message = signal.aborted ? `no response within ${webhookConfigOf(deps).timeoutMs} ms` : err instanceof Error ? err.message : String(err);
      return { statusCode: null, error: message.slice(0, 500), refused: false };
    }
  }

  async function fail(deliveryId: string, error: string): Promise<void> {
    await deps.orm.em.fork().nativeUpdate(WebhookDeliverySchema, { id: deliveryId, status: 'pending' }, { status: 'failed', lastError: error, completedAt: deps.clock.now() });
  }
}

function describeStatus(status: number): string {
  if (status >= 300 && status < 400) return `answered ${status} (redirects are not followed)`;
  return `answered ${status}`;
}

/** Reads (and drops) at most `limit` bytes of the response, then lets the connection go. */
async function drain(body: NodeJS.ReadableStream & { destroy(): void }, limit: number): Promise<void> {
  let read = 0;
  for await (const chunk of body) {
    read += (chunk as Buffer).length;
    if (read >= limit) break;
  }
  body.destroy();
}

/** The workflow's last word when attempts stop for good (retry window closed, or a final refusal). */
export function createFinishWebhookDelivery(deps: ActivityDeps) {
  return async function finishWebhookDelivery(deliveryId: string, reason: string): Promise<void> {
    await deps.orm.em
      .fork()
      .nativeUpdate(WebhookDeliverySchema, { id: deliveryId, status: 'pending' }, { status: 'failed', lastError: reason.slice(0, 1000), completedAt: deps.clock.now() });
  };
}
