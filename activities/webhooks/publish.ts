import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ProcessingJobSchema, WebhookEndpointSchema } from '#entities/index.js';
import { webhookBody, type WebhookEvent } from '#lib/webhooks/events.js';
import { startDelivery } from '#domain/webhooks/start-delivery.js';
import type { ActivityDeps } from '../deps.js';
import { webhookConfigOf } from './config.js';
import { isTerminal } from '#workflows/job-status.js';

export interface JobEventInput {
  organizationId: string;
  jobId: string;
  event: WebhookEvent;
  /** Merged into the payload's `data` after job_id, action_id, status and result_url. */
  data: Record<string, unknown>;
}

const STATUS_OF: Record<WebhookEvent, string | undefined> = {
  'job.completed': 'completed',
  'job.failed': 'failed',
  'job.cancelled': 'cancelled',
  'job.progress': undefined,
};

/**
 * Called by the job workflow at terminal events (and progress): stores one delivery per subscribed
 * endpoint and starts its delivery workflow. Delivery ids derive from this activity's identity, so
 * a retried publish finds the same deliveries and starts nothing twice.
 */
export function createPublishJobEvent(deps: ActivityDeps) {
  return async function publishJobEvent(input: JobEventInput): Promise<{ deliveryIds: string[] }> {
    const ctx = Context.current();
    const em = deps.orm.em.fork();
    const endpoints = (
      await em.find(WebhookEndpointSchema, { organization: { id: input.organizationId, deletedAt: null }, status: 'active' })
    ).filter((e) => e.events.includes(input.event));
    if (!endpoints.length) return { deliveryIds: [] };

    const job = await em.findOne(ProcessingJobSchema, { id: input.jobId, organization: input.organizationId });
    // The job store's word is final: no webhook says something else than the job's stored status
    // (nor reports progress of a job that has ended).
    const expected = STATUS_OF[input.event];
    if (!job || (expected ? job.status !== expected : isTerminal(job.status))) return { deliveryIds: [] };
    const status = expected ?? job.status;
    const body = webhookBody(input.event, input.organizationId, deps.clock.now(), {
      job_id: input.jobId,
      action_id: job?.actionId ?? null,
      status,
      ...(status === 'completed' ? { result_url: `${webhookConfigOf(deps).apiBaseUrl}/api/v1/jobs/${input.jobId}/result` } : {}),
      ...input.data,
    });
    const { workflowExecution: wf, activityId } = ctx.info;
    const caller = wf ? `${wf.workflowId}/${wf.runId}` : 'standalone';
    const deliveryIds: string[] = [];
    for (const endpoint of endpoints) {
      const id = stableUuid(`${caller}/${activityId}/${endpoint.id}`);
      await em.execute(
        `insert into webhook_deliveries (id, organization_id, endpoint_id, event, body) values (?, ?, ?, ?, ?) on conflict (id) do nothing`,
        [id, input.organizationId, endpoint.id, input.event, body],
      );
      await startDelivery(ctx.client, webhookConfigOf(deps).taskQueue, webhookConfigOf(deps), id, 'first');
      deliveryIds.push(id);
    }
    return { deliveryIds };
  };
}

/**
 * The job events the organization's active endpoints subscribe to. A step's activity looks them up
 * (beside its own work) so that its workflow skips publishing an event nobody listens to: the
 * publish would find no endpoint either, and costs a local activity in the workflow task between
 * two steps. An endpoint subscribed within those milliseconds sees the job's next event.
 */
export async function subscribedEvents(deps: Pick<ActivityDeps, 'orm'>, organizationId: string): Promise<WebhookEvent[]> {
  const rows = await deps.orm.em.fork().execute<{ event: WebhookEvent }[]>(
    `select distinct e.event from webhook_endpoints w join organizations o on o.id = w.organization_id
       cross join lateral jsonb_array_elements_text(w.events) as e(event)
     where w.organization_id = ? and o.deleted_at is null and w.status = 'active'`,
    [organizationId],
  );
  return rows.map((r) => r.event);
}

/** A UUID (version 8, name-based) from a name: the same name always gives the same id. */
export function stableUuid(name: string): string {
  const b = createHash('sha256').update(name).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
