import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import {
  WebhookAttemptSchema,
  WebhookDeliverySchema,
  WebhookEndpointSchema,
  type WebhookAttempt,
  type WebhookDelivery,
  type WebhookEndpoint,
} from '#entities/index.js';
import { ConflictError, NotFoundError, ServiceUnavailableError, ValidationError } from '#lib/errors.js';
import { createAddressPolicy } from '#lib/net/address-policy.js';
import { TEST_EVENT, webhookBody } from '#lib/webhooks/events.js';
import { createSecretBox, type SecretBox } from '#lib/webhooks/secret-box.js';
import { generateSecret } from '#lib/webhooks/signing.js';
import { startDelivery } from '#domain/webhooks/start-delivery.js';
import { refuseWebhookUrl } from '#lib/webhooks/url.js';
import type { ApiDeps } from '../deps.js';
import { cursorTime, keyset, pageOf, type PageRequest } from './listing.js';

export interface WebhookInput {
  url: string;
  events: string[];
  description?: string | null;
}
export type DeliveryWithAttempts = WebhookDelivery & { attempts: WebhookAttempt[] };

export function createWebhookService(deps: ApiDeps) {
  const { orm, config, clock, temporal } = deps;
  const policy = createAddressPolicy(config.webhooks.allowedCidrs);
  let box: SecretBox | undefined;
  // Without a key nothing could be signed later, so nothing is registered (production must set one).
  const secretBox = (): SecretBox => {
    if (!config.webhooks.secretKey) throw new ServiceUnavailableError('Webhooks are not configured on this server (WEBHOOK_SECRET_KEY)');
    return (box ??= createSecretBox(config.webhooks.secretKey));
  };

  function assertUrl(url: string): void {
    const why = refuseWebhookUrl(url, policy);
    if (why) throw new ValidationError('Webhook URL refused', { fields: [{ field: 'url', location: 'body', message: why }] });
  }

  async function endpointOf(em: EntityManager, organizationId: string, id: string): Promise<WebhookEndpoint> {
    const endpoint = await em.findOne(WebhookEndpointSchema, { id, organization: organizationId });
    if (!endpoint) throw new NotFoundError('Webhook', id);
    return endpoint;
  }

  async function withAttempts(em: EntityManager, deliveries: WebhookDelivery[]): Promise<DeliveryWithAttempts[]> {
    const attempts = deliveries.length
      ? await em.find(WebhookAttemptSchema, { delivery: { $in: deliveries.map((d) => d.id) } }, { orderBy: { attemptNumber: 'asc' } })
      : [];
    return deliveries.map((d) => Object.assign(d, { attempts: attempts.filter((a) => a.delivery.id === d.id) }));
  }

  /** Stores a delivery and starts its workflow; the secret stays in the database. */
  async function send(em: EntityManager, delivery: WebhookDelivery, mode: 'first' | 'redeliver'): Promise<DeliveryWithAttempts> {
    await startDelivery(temporal, config.temporal.taskQueue, config.webhooks, delivery.id, mode);
    return (await withAttempts(em, [delivery]))[0]!;
  }

  return {
    async list(organizationId: string, page: PageRequest): Promise<{ items: WebhookEndpoint[]; nextCursor: string | null }> {
      const em = orm.em.fork();
      return paginate(em, 'webhook_endpoints', { organization_id: organizationId }, page, (ids) => em.find(WebhookEndpointSchema, { id: { $in: ids } }));
    },

    async create(organizationId: string, input: WebhookInput): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
      assertUrl(input.url);
      const secret = generateSecret();
      const em = orm.em.fork();
      const endpoint = em.create(WebhookEndpointSchema, {
        organization: organizationId,
        url: input.url,
        events: [...input.events],
        description: input.description ?? null,
        secretSealed: secretBox().seal(secret),
      });
      await em.flush();
      return { endpoint, secret };
    },

    async get(organizationId: string, id: string): Promise<WebhookEndpoint> {
      return endpointOf(orm.em.fork(), organizationId, id);
    },

    async update(organizationId: string, id: string, input: Partial<WebhookInput> & { status?: 'active' | 'disabled' }): Promise<WebhookEndpoint> {
      if (input.url !== undefined) assertUrl(input.url);
      const em = orm.em.fork();
      const endpoint = await endpointOf(em, organizationId, id);
      if (input.url !== undefined) endpoint.url = input.url;
      if (input.events !== undefined) endpoint.events = [...input.events];
      if (input.description !== undefined) endpoint.description = input.description;
      if (input.status !== undefined && input.status !== endpoint.status) {
        endpoint.status = input.status;
        endpoint.disabledReason = input.status === 'disabled' ? 'disabled through the API' : null;
      }
      await em.flush();
      return endpoint;
    },

    async remove(organizationId: string, id: string): Promise<void> {
      const em = orm.em.fork();
      await em.remove(await endpointOf(em, organizationId, id)).flush();
    },

    async rotate(organizationId: string, id: string, graceSeconds: number): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
      const sealer = secretBox();
      const em = orm.em.fork();
      const endpoint = await em.findOne(WebhookEndpointSchema, { id, organization: organizationId }, { populate: ['secretSealed'] });
      if (!endpoint) throw new NotFoundError('Webhook', id);
      const secret = generateSecret();
      endpoint.previousSecretSealed = graceSeconds > 0 ? endpoint.secretSealed : null;
      endpoint.previousSecretExpiresAt = graceSeconds > 0 ? new Date(clock.now().getTime() + graceSeconds * 1000) : null;
      endpoint.secretSealed = sealer.seal(secret);
      await em.flush();
      return { endpoint, secret };
    },

    async deliveries(organizationId: string, id: string, page: PageRequest): Promise<{ items: DeliveryWithAttempts[]; nextCursor: string | null }> {
      const em = orm.em.fork();
      await endpointOf(em, organizationId, id);
      const { items, nextCursor } = await paginate(em, 'webhook_deliveries', { organization_id: organizationId, endpoint_id: id }, page, (ids) =>
        em.find(WebhookDeliverySchema, { id: { $in: ids } }),
      );
      return { items: await withAttempts(em, items), nextCursor };
    },

    async test(organizationId: string, id: string): Promise<DeliveryWithAttempts> {
      const em = orm.em.fork();
      const endpoint = await endpointOf(em, organizationId, id);
      if (endpoint.status !== 'active') throw new ConflictError('The endpoint is disabled', { status: endpoint.status });
      const deliveryId = randomUUID();
      const now = clock.now();
      const delivery = em.create(WebhookDeliverySchema, {
        id: deliveryId,
        organization: organizationId,
        endpoint,
        event: TEST_EVENT,
        body: webhookBody(TEST_EVENT, organizationId, now, { webhook_id: endpoint.id, message: 'A test event from Mediaflow' }),
        createdAt: now,
      });
      await em.flush();
      return send(em, delivery, 'first');
    },

    async redeliver(organizationId: string, id: string, deliveryId: string): Promise<DeliveryWithAttempts> {
      const em = orm.em.fork();
      const endpoint = await endpointOf(em, organizationId, id);
      const delivery = await em.findOne(WebhookDeliverySchema, { id: deliveryId, endpoint: endpoint.id, organization: organizationId });
      if (!delivery) throw new NotFoundError('Webhook delivery', deliveryId);
      if (endpoint.status !== 'active') throw new ConflictError('The endpoint is disabled', { status: endpoint.status });
      // Guarded in the update itself: two redeliveries at once start one run.
      const reopened = await em.nativeUpdate(
        WebhookDeliverySchema,
        { id: deliveryId, status: { $ne: 'pending' } },
        { status: 'pending', completedAt: null, lastError: null },
      );
      if (!reopened) throw new ConflictError('The delivery is still being attempted', { status: 'pending' });
      await em.refresh(delivery);
      return send(em, delivery, 'redeliver');
    },
  };
}

/** One keyset page (api/services/listing.ts) of `table` rows matching `filter`, loaded as entities in page order. */
async function paginate<T extends { id: string }>(
  em: EntityManager,
  table: string,
  filter: Record<string, string>,
  page: PageRequest,
  load: (ids: string[]) => Promise<T[]>,
): Promise<{ items: T[]; nextCursor: string | null }> {
  const { where, params, orderLimit } = keyset('t', page);
  const conditions = [...Object.keys(filter).map((column) => `t.${column} = ?`), ...where];
  const rows = await em.execute<{ id: string; c: string }[]>(
    `select t.id, ${cursorTime('t.created_at')} as c from ${table} t where ${conditions.join(' and ')} ${orderLimit}`,
    [...Object.values(filter), ...params],
  );
  const { rows: kept, nextCursor } = pageOf(rows, page.limit);
  const byId = new Map((await load(kept.map((r) => r.id))).map((e) => [e.id, e]));
  return { items: kept.map((r) => byId.get(r.id)).filter((e): e is T => e !== undefined), nextCursor };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
