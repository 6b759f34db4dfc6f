import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { createApp } from '#api/app.js';
import { createLogger } from '#lib/logger.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';
import { platformAdmin } from './support/platform-admin.js';
import { client, registerTenant } from './support/tenants.js';

let h: Harness;
const servers: Server[] = [];
beforeAll(async () => {
  h = await startHarness({ worker: true });
});
afterAll(async () => {
  for (const s of servers) s.close();
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
  const operator = await registerTenant(h.url, { email: `operator-${randomUUID()}@example.test` });
  const granted = await platformAdmin(h.config.database.url, ['grant', operator.email.toUpperCase()]);
  expect(granted).toMatchObject({ code: 0, stdout: expect.stringContaining(operator.userId) });
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

describe('platform administration is granted out of band, never by an email', () => {
  const db = () => h.config.database.url;
  const stats = (c: { bearer: { fetch: (p: string) => Promise<Response> } }) => c.bearer.fetch('/api/v1/admin/stats').then((r) => r.status);
  const decode = (c: { bearer: { post: (p: string, b: unknown) => Promise<Response> } }) =>
    c.bearer.post('/api/v1/codec/decode', { payloads: [{ metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('{}').toString('base64') }] }).then((r) => r.status);

  test('an address an operator used to be known by grants nothing: registered, or invited and accepted', async () => {
    // The old attack: register (or get invited under) the address named in the configuration.
    const email = `ops-${randomUUID()}@example.test`;
    const registered = await registerTenant(h.url, { email });
    expect([await stats(registered), await decode(registered)]).toEqual([403, 403]);
    const invited = `ops-${randomUUID()}@example.test`;
    const inv = (await (await h.tenant.bearer.post(`/api/v1/organizations/${h.tenant.organizationId}/users`, { email: invited, name: 'x', role: 'admin' })).json()) as Record<string, any>;
    const session = (await (await h.as({}).post('/api/v1/auth/accept-invitation', { invitation_token: inv.invitation_token, password: 'a long passphrase 1' })).json()) as Record<string, any>;
    const member = { bearer: client(h.url, { accessToken: session.access_token }) };
    expect([await stats(member), await decode(member)]).toEqual([403, 403]);
  });

  test('grant, list and revoke by email or id; a revoke takes effect at once', async () => {
    const operator = await registerTenant(h.url, { email: `ops-${randomUUID()}@example.test` });
    expect(await stats(operator)).toBe(403);
    expect((await platformAdmin(db(), ['grant', operator.userId])).code).toBe(0);
    expect([await stats(operator), await decode(operator)]).toEqual([200, 200]);
    expect((await platformAdmin(db(), ['list'])).stdout).toContain(`${operator.email} (user ${operator.userId}, active)`);

    expect((await platformAdmin(db(), ['revoke', operator.email])).code).toBe(0);
    // The session's cached rights are dropped by the users trigger's notification, not by a TTL.
    expect(await waitFor(async () => ((await stats(operator)) === 403 ? true : undefined), 2000, 50)).toBe(true);
    expect((await platformAdmin(db(), ['list'])).stdout).not.toContain(operator.userId);
  });

  test('the CLI refuses unknown users and bad commands', async () => {
    const unknown = await platformAdmin(db(), ['grant', `nobody-${randomUUID()}@example.test`]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no user with email/);
    expect((await platformAdmin(db(), ['promote', 'x'])).stderr).toMatch(/usage/);
  });

  test('PLATFORM_ADMIN_USER_IDS grants by user id; PLATFORM_ADMIN_EMAILS is refused', async () => {
    const operator = await registerTenant(h.url, { email: `ops-${randomUUID()}@example.test` });
    const config = { ...h.config, auth: { ...h.config.auth, platformAdminUserIds: [operator.userId] } };
    const app = createApp({ ...h.common, config, temporal: h.temporal, logger: createLogger('silent', 't'), clock: { now: () => new Date() }, metrics: h.metrics, tracer: trace.getTracer('t') });
    const server = createServer(app.callback()).listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((r) => server.once('listening', r));
    const other = client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { accessToken: operator.accessToken });
    expect((await other.fetch('/api/v1/admin/stats')).status).toBe(200);
    expect((await operator.bearer.fetch('/api/v1/admin/stats')).status).toBe(403);
    const listed = await platformAdmin(db(), ['list'], { PLATFORM_ADMIN_USER_IDS: operator.userId });
    expect(listed.stdout).toContain(`${operator.email} (user ${operator.userId}, active) [PLATFORM_ADMIN_USER_IDS]`);
    const refused = await platformAdmin(db(), ['list'], { PLATFORM_ADMIN_EMAILS: operator.email });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/PLATFORM_ADMIN_EMAILS is removed/);
    const byEmail = await platformAdmin(db(), ['list'], { PLATFORM_ADMIN_USER_IDS: operator.email });
    expect(byEmail.stderr).toMatch(/PLATFORM_ADMIN_USER_IDS entries are user ids/);
  });
});
