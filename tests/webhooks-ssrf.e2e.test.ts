// Webhooks with the production default: no allow-list, so loopback, private, link-local and
// metadata addresses are refused — as literals at registration, and as resolved names at delivery.
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { startReceiver, type Receiver } from './support/webhook-receiver.js';

let h: Harness;
let rx: Receiver;
beforeAll(async () => {
  rx = await startReceiver();
  h = await startHarness({ worker: true, env: { WEBHOOK_ALLOWED_CIDRS: '', WEBHOOK_RETRY_INITIAL_MS: '200' } });
});
afterAll(async () => {
  await h?.stop();
  await rx?.close();
});

const json = async (res: Response) => (await res.json()) as Record<string, any>;

test.each([
  'http://169.254.169.254/latest/meta-data/',
  'http://10.0.0.5/hook',
  'http://192.168.1.10/hook',
  'http://[::ffff:127.0.0.1]:8080/hook',
  'http://[::1]/hook',
  'http://127.0.0.1/hook',
  'http://[fec0::1]/hook',
  'http://[2002:a9fe:a9fe::]/hook',
  'http://[64:ff9b:1::a00:5]/hook',
  'http://[::a00:5]/hook',
])('%s is refused at registration with 400 VALIDATION_ERROR', async (url) => {
  const res = await h.post('/api/v1/webhooks', { url, events: ['job.completed'] });
  expect(res.status).toBe(400);
  const { error } = await json(res);
  expect(error.code).toBe('VALIDATION_ERROR');
  expect(error.details.fields).toEqual([{ field: 'url', location: 'body', message: expect.stringContaining('refused') }]);
  // Updating an existing endpoint to such a URL is refused the same way.
});

test('an update to a refused address is refused too', async () => {
  const ep = await json(await h.post('/api/v1/webhooks', { url: 'https://hooks.example.com/x', events: ['job.completed'] }));
  const res = await h.fetch(`/api/v1/webhooks/${ep.id}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: 'http://169.254.169.254/' }),
  });
  expect(res.status).toBe(400);
  expect((await json(await h.fetch(`/api/v1/webhooks/${ep.id}`))).url).toBe('https://hooks.example.com/x');
});

test('a name resolving to loopback is refused at delivery: failed with the reason, not retried, nothing received', async () => {
  const created = await h.post('/api/v1/webhooks', { url: `http://localhost:${rx.port}/hook`, events: ['job.completed'] });
  expect(created.status).toBe(201);
  const ep = await json(created);
  expect((await h.post(`/api/v1/webhooks/${ep.id}/test`, {})).status).toBe(202);
  const delivery = await waitFor(async () => {
    const [d] = (await json(await h.fetch(`/api/v1/webhooks/${ep.id}/deliveries`))).data;
    return d && d.status !== 'pending' ? d : undefined;
  });
  expect(delivery).toMatchObject({ status: 'failed', attempt_count: 1, last_status_code: null, last_error: expect.stringMatching(/refused.*loopback/) });
  expect(delivery.attempts).toEqual([expect.objectContaining({ attempt: 1, status_code: null, succeeded: false, error: expect.stringContaining('refused') })]);
  // The reason says the name was refused, never what it resolved to.
  for (const text of [delivery.last_error, delivery.attempts[0].error]) expect(text).not.toMatch(/127\.0\.0\.1|::1|::ffff/);
  await new Promise((r) => setTimeout(r, 600));
  expect((await json(await h.fetch(`/api/v1/webhooks/${ep.id}/deliveries`))).data[0].attempt_count).toBe(1);
  expect(rx.received).toEqual([]);
});
