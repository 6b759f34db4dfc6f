// Webhooks end to end: the real API and worker, real Temporal, and a real HTTP receiver on
// loopback (allowed here through WEBHOOK_ALLOWED_CIDRS, as under `npm start`). Signatures are
// checked with the `standardwebhooks` reference library.
import { Webhook } from 'standardwebhooks';
import { startDelivery } from '#domain/webhooks/start-delivery.js';
import { workflowIdForDelivery } from '#workflows/webhook-types.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';
import { startReceiver, type Receiver, type Received } from './support/webhook-receiver.js';

let h: Harness;
let rx: Receiver;
beforeAll(async () => {
  rx = await startReceiver();
  h = await startHarness({
    worker: true,
    env: { WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8,::1/128', WEBHOOK_RETRY_INITIAL_MS: '200', WEBHOOK_RETRY_MAX_INTERVAL_MS: '400' },
  });
});
afterAll(async () => {
  await h?.stop();
  await rx?.close();
});

type Json = Record<string, any>;
const json = async (res: Response) => (await res.json()) as Json;
const headersOf = (r: Received) => ({
  'webhook-id': String(r.headers['webhook-id']),
  'webhook-timestamp': String(r.headers['webhook-timestamp']),
  'webhook-signature': String(r.headers['webhook-signature']),
});

async function createEndpoint(path: string, events: string[]): Promise<{ id: string; secret: string }> {
  const res = await h.post('/api/v1/webhooks', { url: `${rx.url}${path}`, events });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; secret: string };
}

async function deliveriesOf(id: string): Promise<Json[]> {
  const res = await h.fetch(`/api/v1/webhooks/${id}/deliveries`);
  expect(res.status).toBe(200);
  return (await json(res)).data as Json[];
}

/** Waits until the endpoint's newest delivery is no longer pending. */
async function settled(id: string, timeoutMs = 60_000): Promise<Json> {
  return waitFor(async () => {
    const [latest] = await deliveriesOf(id);
    return latest && latest.status !== 'pending' ? latest : undefined;
  }, timeoutMs);
}

test('the webhook tables match the entities (no pending schema diff)', async () => {
  const diff = await h.common.orm.schema.getUpdateSchemaSQL({ wrap: false });
  expect(diff.split('\n').filter((l) => /"webhook_(endpoints|deliveries|attempts)"/.test(l))).toEqual([]);
});

describe('managing endpoints', () => {
  test('create answers the secret once; it is stored encrypted and never shown again', async () => {
    const created = await json(await h.post('/api/v1/webhooks', { url: `${rx.url}/crud`, events: ['job.completed'], description: 'ci' }));
    expect(created).toMatchObject({ url: `${rx.url}/crud`, events: ['job.completed'], description: 'ci', status: 'active', disabled_reason: null });
    expect(Buffer.from(String(created.secret).replace(/^whsec_/, ''), 'base64').length).toBeGreaterThanOrEqual(24);

    const got = await json(await h.fetch(`/api/v1/webhooks/${created.id}`));
    expect(got).not.toHaveProperty('secret');
    expect(got).toEqual({ ...created, secret: undefined, updated_at: expect.any(String) });
    const listed = await json(await h.fetch('/api/v1/webhooks'));
    expect(listed.data.map((w: Json) => w.id)).toContain(created.id);
    expect(JSON.stringify(listed)).not.toContain(created.secret);

    const [row] = await h.common.orm.em.fork().execute(`select * from webhook_endpoints where id = ?`, [created.id]);
    expect(JSON.stringify(row)).not.toContain(String(created.secret).slice(6));

    const updated = await json(await h.fetch(`/api/v1/webhooks/${created.id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events: ['job.failed', 'job.progress'], description: null }),
    }));
    expect(updated).toMatchObject({ events: ['job.failed', 'job.progress'], description: null, url: `${rx.url}/crud` });

    expect((await h.fetch(`/api/v1/webhooks/${created.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await h.fetch(`/api/v1/webhooks/${created.id}`)).status).toBe(404);
  });

  test.each([
    [{ url: 'ftp://example.com/x', events: ['job.completed'] }, 'url'],
    [{ url: 'https://u:p@example.com/x', events: ['job.completed'] }, 'url'],
    [{ url: 'https://example.com/x', events: ['job.exploded'] }, 'events.0'],
    [{ url: 'https://example.com/x', events: [] }, 'events'],
    [{ events: ['job.completed'] }, 'url'],
  ])('bad input %j is 400 VALIDATION_ERROR on %s', async (body, field) => {
    const res = await h.post('/api/v1/webhooks', body);
    expect(res.status).toBe(400);
    const err = (await json(res)).error;
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.details.fields.map((f: Json) => f.field)).toContain(field);
  });

  test('management needs org:admin', async () => {
    const key = await json(await h.post('/api/v1/api-keys', { name: 'reader', permissions: ['jobs:read', 'jobs:create'] }));
    const reader = h.as({ apiKey: key.api_key });
    expect((await reader.fetch('/api/v1/webhooks')).status).toBe(403);
    expect((await reader.post('/api/v1/webhooks', { url: 'https://example.com/x', events: ['job.completed'] })).status).toBe(403);
  });
});

describe('delivering job events', () => {
  test('a real job sends a signed job.completed (§10.1) only to endpoints that subscribe to it', async () => {
    const done = await createEndpoint('/job-done', ['job.completed']);
    const progress = await createEndpoint('/job-progress', ['job.progress']);
    const failed = await createEndpoint('/job-failed', ['job.failed']);
    const media = await json(await h.upload(await makeJpeg(64, 48), 'w.jpg', 'image/jpeg'));
    const job = await json(await h.post('/api/v1/process', { media_id: media.id, action_id: 'img_resize', parameters: { width: 16 } }));
    expect(job.id).toEqual(expect.any(String));
    // A two-step pipeline reports progress between its steps.
    const pipeline = await json(await h.post('/api/v1/process', {
      media_id: media.id,
      steps: [
        { action_id: 'img_resize', parameters: { width: 32 } },
        { action_id: 'img_resize', parameters: { width: 16 } },
      ],
    }));
    expect(pipeline.id).toEqual(expect.any(String));

    const got = await waitFor(async () => rx.at('/job-done').find((r) => JSON.parse(r.body).data?.job_id === job.id));
    const payload = new Webhook(done.secret).verify(got.body, headersOf(got)) as Json;
    expect(payload).toEqual({
      event: 'job.completed',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      organization_id: h.tenant.organizationId,
      data: expect.objectContaining({ job_id: job.id, action_id: 'img_resize', status: 'completed', result_url: `${h.url}/api/v1/jobs/${job.id}/result` }),
    });
    expect(got.headers['content-type']).toBe('application/json');

    // job.progress is opt-in: it reaches only the endpoint that asked for it.
    const prog = await waitFor(async () => rx.at('/job-progress').find((r) => JSON.parse(r.body).data?.job_id === pipeline.id));
    expect(new Webhook(progress.secret).verify(prog.body, headersOf(prog))).toMatchObject({ event: 'job.progress', data: { job_id: pipeline.id } });
    await waitFor(async () => rx.at('/job-done').find((r) => JSON.parse(r.body).data?.job_id === pipeline.id));
    expect(rx.at('/job-done').every((r) => JSON.parse(r.body).event === 'job.completed')).toBe(true);
    expect(await deliveriesOf(failed.id)).toEqual([]);

    const delivery = (await deliveriesOf(done.id)).find((d) => d.id === got.headers['webhook-id']);
    expect(delivery).toMatchObject({ id: got.headers['webhook-id'], event: 'job.completed', status: 'succeeded', attempt_count: 1, last_status_code: 204 });
    expect(delivery!.attempts).toEqual([
      { attempt: 1, started_at: expect.any(String), duration_ms: expect.any(Number), status_code: 204, error: null, succeeded: true },
    ]);
    expect(delivery!.payload).toEqual(payload);

    // The workflow history holds ids only, never the secret.
    const history = await h.temporal.workflow.getHandle(workflowIdForDelivery(delivery!.id)).fetchHistory();
    expect(JSON.stringify(history)).not.toContain(done.secret.slice(6));

    // Publishing the same delivery again (an activity retry) starts nothing twice.
    expect(await startDelivery(h.temporal, h.config.temporal.taskQueue, h.config.webhooks, delivery!.id, 'first')).toBe(false);
    await new Promise((r) => setTimeout(r, 500));
    expect(rx.at('/job-done').filter((r) => r.headers['webhook-id'] === delivery!.id)).toHaveLength(1);
  });

  test('a receiver answering 500 for a while gets the delivery later, with the same webhook-id', async () => {
    rx.on('/flaky', (_r, nth) => ({ status: nth <= 3 ? 500 : 200 }));
    const ep = await createEndpoint('/flaky', ['job.completed']);
    const sent = await json(await h.post(`/api/v1/webhooks/${ep.id}/test`, {}));
    expect(sent).toMatchObject({ event: 'webhook.test', status: 'pending', webhook_id: ep.id });

    const delivery = await settled(ep.id);
    expect(delivery).toMatchObject({ id: sent.id, status: 'succeeded', attempt_count: 4, last_status_code: 200 });
    expect(delivery.attempts.map((a: Json) => [a.attempt, a.status_code, a.succeeded])).toEqual([
      [1, 500, false],
      [2, 500, false],
      [3, 500, false],
      [4, 200, true],
    ]);
    expect(delivery.attempts[0].error).toBe('answered 500');
    const requests = rx.at('/flaky');
    expect(requests.map((r) => r.headers['webhook-id'])).toEqual([sent.id, sent.id, sent.id, sent.id]);
    for (const r of requests) expect(new Webhook(ep.secret).verify(r.body, headersOf(r))).toMatchObject({ event: 'webhook.test' });
    // Backoff: the attempts are spread out, not fired back to back.
    expect(requests[3]!.at - requests[0]!.at).toBeGreaterThanOrEqual(200 + 400 + 400 - 50);
  });

  test('410 Gone disables the endpoint at once; re-enabling it works', async () => {
    rx.on('/gone', () => ({ status: 410 }));
    const ep = await createEndpoint('/gone', ['job.completed']);
    await h.post(`/api/v1/webhooks/${ep.id}/test`, {});
    const delivery = await settled(ep.id);
    expect(delivery).toMatchObject({ status: 'failed', attempt_count: 1, last_status_code: 410 });
    const endpoint = await json(await h.fetch(`/api/v1/webhooks/${ep.id}`));
    expect(endpoint).toMatchObject({ status: 'disabled', disabled_reason: expect.stringContaining('410') });

    const refused = await h.post(`/api/v1/webhooks/${ep.id}/test`, {});
    expect(refused.status).toBe(409);
    expect((await json(refused)).error.code).toBe('CONFLICT');

    rx.on('/gone', () => ({ status: 200 }));
    const put = await h.fetch(`/api/v1/webhooks/${ep.id}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 'active' }) });
    expect(await json(put)).toMatchObject({ status: 'active', disabled_reason: null });
    expect((await h.post(`/api/v1/webhooks/${ep.id}/test`, {})).status).toBe(202);
    expect(await settled(ep.id)).toMatchObject({ status: 'succeeded' });
  });

  test('redirects are not followed: a 3xx is a failed attempt', async () => {
    rx.on('/redirect', () => ({ status: 302, headers: { location: `${rx.url}/redirect-target` } }));
    const ep = await createEndpoint('/redirect', ['job.completed']);
    await h.post(`/api/v1/webhooks/${ep.id}/test`, {});
    const [delivery] = await waitFor(async () => {
      const list = await deliveriesOf(ep.id);
      return list[0]?.attempt_count >= 2 ? list : undefined;
    });
    expect(delivery).toMatchObject({ status: 'pending', last_status_code: 302 });
    expect(delivery!.attempts[0]).toMatchObject({ status_code: 302, succeeded: false, error: expect.stringContaining('redirects are not followed') });
    expect(rx.at('/redirect-target')).toEqual([]);
    // Deleting the endpoint stops the retries.
    expect((await h.fetch(`/api/v1/webhooks/${ep.id}`, { method: 'DELETE' })).status).toBe(204);
    const handle = h.temporal.workflow.getHandle(workflowIdForDelivery(delivery!.id));
    expect(await handle.result()).toBe('failed');
    expect(rx.at('/redirect-target')).toEqual([]);
  });

  test('redeliver sends the same delivery again, newly signed; not while it is still being attempted', async () => {
    const ep = await createEndpoint('/again', ['job.completed']);
    const sent = await json(await h.post(`/api/v1/webhooks/${ep.id}/test`, {}));
    await settled(ep.id);
    const res = await h.post(`/api/v1/webhooks/${ep.id}/deliveries/${sent.id}/redeliver`, {});
    expect(res.status).toBe(202);
    expect(await json(res)).toMatchObject({ id: sent.id, status: 'pending' });
    const delivery = await settled(ep.id);
    expect(delivery).toMatchObject({ id: sent.id, status: 'succeeded', attempt_count: 2 });
    const requests = rx.at('/again');
    expect(requests).toHaveLength(2);
    expect(requests.map((r) => r.headers['webhook-id'])).toEqual([sent.id, sent.id]);
    expect(requests[1]!.body).toBe(requests[0]!.body);
    for (const r of requests) new Webhook(ep.secret).verify(r.body, headersOf(r));

    rx.on('/slow', () => ({ status: 500 }));
    const busy = await createEndpoint('/slow', ['job.completed']);
    const pending = await json(await h.post(`/api/v1/webhooks/${busy.id}/test`, {}));
    const conflict = await h.post(`/api/v1/webhooks/${busy.id}/deliveries/${pending.id}/redeliver`, {});
    expect(conflict.status).toBe(409);
    expect((await h.post(`/api/v1/webhooks/${ep.id}/deliveries/${pending.id}/redeliver`, {})).status).toBe(404);
    await h.fetch(`/api/v1/webhooks/${busy.id}`, { method: 'DELETE' });
  });

  test('secret rotation: both secrets sign during the grace period, then only the new one', async () => {
    const ep = await createEndpoint('/rotate', ['job.completed']);
    const rotated = await json(await h.post(`/api/v1/webhooks/${ep.id}/rotate-secret`, { grace_period_seconds: 3600 }));
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(ep.secret);
    expect(Date.parse(rotated.previous_secret_expires_at) - Date.now()).toBeGreaterThan(3500_000);

    await h.post(`/api/v1/webhooks/${ep.id}/test`, {});
    await settled(ep.id);
    const during = rx.at('/rotate').at(-1)!;
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(new Webhook(rotated.secret).verify(during.body, headersOf(during))).toMatchObject({ event: 'webhook.test' });
    expect(new Webhook(ep.secret).verify(during.body, headersOf(during))).toMatchObject({ event: 'webhook.test' });

    const again = await json(await h.post(`/api/v1/webhooks/${ep.id}/rotate-secret`, { grace_period_seconds: 0 }));
    expect(again.previous_secret_expires_at).toBeNull();
    await h.post(`/api/v1/webhooks/${ep.id}/test`, {});
    await waitFor(async () => (rx.at('/rotate').length === 2 ? true : undefined));
    const after = rx.at('/rotate').at(-1)!;
    expect(new Webhook(again.secret).verify(after.body, headersOf(after))).toMatchObject({ event: 'webhook.test' });
    expect(() => new Webhook(rotated.secret).verify(after.body, headersOf(after))).toThrow();
  });

  test('deliveries are paginated, newest first', async () => {
    const ep = await createEndpoint('/pages', ['job.completed']);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await json(await h.post(`/api/v1/webhooks/${ep.id}/test`, {}))).id);
    const first = await json(await h.fetch(`/api/v1/webhooks/${ep.id}/deliveries?limit=2`));
    expect(first.data.map((d: Json) => d.id)).toEqual([ids[2], ids[1]]);
    const second = await json(await h.fetch(`/api/v1/webhooks/${ep.id}/deliveries?limit=2&cursor=${first.next_cursor}`));
    expect(second.data.map((d: Json) => d.id)).toEqual([ids[0]]);
    expect(second.next_cursor).toBeNull();
    expect((await h.fetch(`/api/v1/webhooks/${ep.id}/deliveries?cursor=bm9wZQ`)).status).toBe(400);
  });
});
