import { randomUUID } from 'node:crypto';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';
import { registerTenant } from './support/tenants.js';

const adminEmail = `operator-${randomUUID()}@example.test`;
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ worker: true, env: { PLATFORM_ADMIN_EMAILS: `someone@else.test, ${adminEmail.toUpperCase()}` } });
});
afterAll(async () => {
  await h?.stop();
});

const json = async (res: Response) => (await res.json()) as Record<string, any>;

test('liveness needs no dependency; readiness checks them; both are public', async () => {
  const live = await h.as({}).fetch('/api/v1/health/live');
  expect(live.status).toBe(200);
  expect(await json(live)).toMatchObject({ status: 'ok', uptime_seconds: expect.any(Number) });
  const ready = await h.as({}).fetch('/api/v1/health/ready');
  expect(await json(ready)).toMatchObject({ status: 'ok', checks: { database: { status: 'up' }, temporal: { status: 'up' }, storage: { status: 'up' } } });
});

test('system status counts the caller organization jobs; config shows no secrets', async () => {
  const media = await json(await h.upload(await makeJpeg(40, 30), 's.jpg'));
  const job = await json(await h.post('/api/v1/process', { media_id: media.id, action_id: 'img_resize', parameters: { width: 20 } }));
  await waitFor(async () => ((await json(await h.fetch(`/api/v1/jobs/${job.id}`))).status === 'completed' ? true : undefined));

  const status = await json(await h.fetch('/api/v1/system/status'));
  expect(status).toMatchObject({ status: 'ok', version: expect.any(String), components: { database: { status: 'up' } }, jobs: { completed: 1 } });
  const other = await h.newTenant();
  expect((await json(await other.fetch('/api/v1/system/status'))).jobs).toEqual({});

  const res = await h.fetch('/api/v1/system/config');
  const text = await res.text();
  expect(JSON.parse(text)).toMatchObject({ actions: { enabled: expect.arrayContaining(['img_resize', 'aud_trim']) }, temporal: { task_queue: h.config.temporal.taskQueue } });
  for (const secret of [h.config.s3.secretKey, h.config.auth.jwtSecret, h.config.database.url]) expect(text).not.toContain(secret);
  expect((await h.as({}).fetch('/api/v1/system/config')).status).toBe(401);
});

test('admin endpoints answer platform operators only', async () => {
  const operator = await registerTenant(h.url, { email: adminEmail });
  const health = await json(await operator.bearer.fetch('/api/v1/admin/health'));
  expect(health).toMatchObject({ status: 'healthy', services: { storage: { status: 'up' } }, metrics: { queue_size: expect.any(Number), memory_rss_bytes: expect.any(Number) } });

  const stats = await json(await operator.bearer.fetch('/api/v1/admin/stats'));
  // Platform-wide: at least the organizations and the completed job of this file.
  expect(stats.organizations).toBeGreaterThanOrEqual(3);
  expect(stats.jobs.completed).toBeGreaterThanOrEqual(1);
  expect(stats.users.total).toBeGreaterThanOrEqual(3);
  expect(stats.users.new_last_7d).toBeGreaterThanOrEqual(3);
  expect(stats.storage.total_files).toBeGreaterThanOrEqual(2);
  expect(stats.performance.success_rate).toBeGreaterThan(0);

  // An organization owner is not a platform operator.
  const owner = await h.tenant.bearer.fetch('/api/v1/admin/stats');
  expect(owner.status).toBe(403);
  expect((await json(owner)).error.code).toBe('FORBIDDEN');
  // Admin routes take bearer tokens only: no API key reaches them, not even the operator's.
  for (const caller of [h, operator]) {
    const res = await caller.fetch('/api/v1/admin/stats');
    expect(res.status).toBe(401);
    expect((await json(res)).error.code).toBe('UNAUTHORIZED');
  }
});
