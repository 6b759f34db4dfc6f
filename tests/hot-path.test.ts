// The API's hot path across replicas: cached credentials that every instance drops within a
// second of a change, rate limits taken in leases that still hold across instances, and usage
// rows written in batches that a graceful stop drains.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { createApp, type ApiApp } from '#api/app.js';
import { createCredentialCache } from '#api/services/credential-cache.js';
import type { Config } from '#lib/config.js';
import { createLogger } from '#lib/logger.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';
import { ALL_SCOPES, client, type ApiClient } from './support/tenants.js';

let h: Harness;
const running: { server: Server; app: ApiApp }[] = [];
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  for (const { server, app } of running) {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await app.close();
  }
  await h?.stop();
});

type Json = Record<string, any>;
const json = async (res: Response): Promise<Json> => (await res.json()) as Json;

/** Another API replica on the same database, with its own caches, leases and usage buffer. */
async function replica(change: (c: Config) => Config = (c) => c): Promise<{ url: string; app: ApiApp; stop(): Promise<void> }> {
  const config = change(h.config);
  const app = createApp({ ...h.common, config, temporal: h.temporal, logger: createLogger('silent', 't'), clock: { now: () => new Date() }, metrics: h.metrics, tracer: trace.getTracer('t') });
  const server = createServer(app.callback()).listen(0, '127.0.0.1');
  const entry = { server, app };
  running.push(entry);
  await new Promise((r) => server.once('listening', r));
  // Caching starts once the replica listens for credential changes.
  await new Promise((r) => setTimeout(r, 300));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    app,
    async stop() {
      running.splice(running.indexOf(entry), 1);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await app.close();
    },
  };
}

/** Milliseconds until `probe` answers `status`, polling every 20 ms for at most a second. */
async function within(probe: () => Promise<Response>, status: number): Promise<number> {
  const started = Date.now();
  await waitFor(async () => ((await probe()).status === status ? true : undefined), 1000, 20);
  return Date.now() - started;
}

/** Changes a row behind every instance's back: with triggers off, nobody is notified. */
async function silently(sql: string, params: unknown[]): Promise<void> {
  await h.common.orm.em.fork().transactional(async (em) => {
    await em.execute('set local session_replication_role = replica');
    await em.execute(sql, params);
  });
}

describe('credentials cached on every replica, dropped within a second of a change', () => {
  let a: string;
  let b: string;
  let mediaId: string;
  beforeAll(async () => {
    a = h.url;
    b = (await replica()).url;
    mediaId = (await json(await h.upload(await makeJpeg(8, 8), 'c.jpg', 'image/jpeg'))).id;
  });
  const newKey = async (by: ApiClient = h, permissions = ALL_SCOPES) => json(await by.post('/api/v1/api-keys', { name: 'replicas', permissions }));

  test('a key is served from the cache, and its revocation on one replica reaches the other', async () => {
    const key = await newKey();
    const onB = client(b, { apiKey: key.api_key });
    expect((await onB.fetch(`/api/v1/media/${mediaId}`)).status).toBe(200);
    // Revoked without telling anyone: the replica still trusts its cached copy (so it is cached).
    await silently(`update api_keys set status = 'revoked' where id = ?`, [key.key_id]);
    expect((await onB.fetch(`/api/v1/media/${mediaId}`)).status).toBe(200);
    await silently(`update api_keys set status = 'active' where id = ?`, [key.key_id]);

    expect((await client(a, {}).fetch(`/api/v1/api-keys/${key.key_id}`, { method: 'DELETE', headers: { 'x-api-key': h.tenant.apiKey } })).status).toBe(204);
    expect(await within(() => onB.fetch(`/api/v1/media/${mediaId}`), 401)).toBeLessThan(1000);
    expect((await json(await onB.fetch(`/api/v1/media/${mediaId}`))).error.code).toBe('INVALID_API_KEY');
  });

  test('rotation without grace: the old secret stops on every replica', async () => {
    const key = await newKey();
    const onB = client(b, { apiKey: key.api_key });
    expect((await onB.fetch(`/api/v1/media/${mediaId}`)).status).toBe(200);
    const rotated = await json(await h.post(`/api/v1/api-keys/${key.key_id}/rotate`, {}));
    expect(await within(() => onB.fetch(`/api/v1/media/${mediaId}`), 401)).toBeLessThan(1000);
    expect((await client(b, { apiKey: rotated.api_key }).fetch(`/api/v1/media/${mediaId}`)).status).toBe(200);
  });

  test('a role change narrows the keys of that user, and removal ends their sessions, on every replica', async () => {
    const invite = await json(await h.post(`/api/v1/organizations/${h.tenant.organizationId}/users`, { email: `rep-${Date.now()}@example.test`, name: 'Rep', role: 'admin' }));
    const session = await json(await h.as({}).post('/api/v1/auth/accept-invitation', { invitation_token: invite.invitation_token, password: 'replica password 1' }));
    const admin = client(a, { accessToken: session.access_token });
    const key = await newKey(admin, ['org:admin', 'media:read']);
    const users = `/api/v1/organizations/${h.tenant.organizationId}/users`;
    const keyOnB = client(b, { apiKey: key.api_key });
    const bearerOnB = client(b, { accessToken: session.access_token });
    expect((await keyOnB.fetch(users)).status).toBe(200);
    expect((await bearerOnB.fetch(users)).status).toBe(200);

    await h.fetch(`${users}/${session.user.id}/role`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role: 'member' }) }).then(async (r) => expect(r.status).toBe(200));
    expect(await within(() => keyOnB.fetch(users), 403)).toBeLessThan(1000);
    expect(await within(() => bearerOnB.fetch(users), 403)).toBeLessThan(1000);
    expect((await keyOnB.fetch(`/api/v1/media/${mediaId}`)).status).toBe(200);

    expect((await h.fetch(`${users}/${session.user.id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await within(() => bearerOnB.fetch(`/api/v1/media/${mediaId}`), 401)).toBeLessThan(1000);
    expect(await within(() => keyOnB.fetch(`/api/v1/media/${mediaId}`), 401)).toBeLessThan(1000);
  });

  test('logout on one replica ends the session on the other', async () => {
    const t = await h.newTenant();
    const onB = client(b, { accessToken: t.accessToken });
    expect((await onB.fetch('/api/v1/auth/me')).status).toBe(200);
    expect((await t.bearer.post('/api/v1/auth/logout', {})).status).toBe(204);
    expect(await within(() => onB.fetch('/api/v1/auth/me'), 401)).toBeLessThan(1000);
  });

  test('a quota an operator writes in SQL applies on every replica within a second', async () => {
    const t = await h.newTenant();
    const onB = client(b, { apiKey: t.apiKey });
    const path = `/api/v1/organizations/${t.organizationId}`;
    expect((await onB.fetch(path)).status).toBe(200);
    await h.common.orm.em.fork().execute(`update organizations set settings = '{"quotas": {"requests_per_day": 1}}' where id = ?`, [t.organizationId]);
    expect(await within(() => onB.fetch(path), 429)).toBeLessThan(1000);
  });
});

test('concurrent misses of one credential share one look-up, unless a change is heard meanwhile', async () => {
  const cache = createCredentialCache({ databaseUrl: h.config.database.url, ttlMs: 5000, logger: createLogger('silent', 't') });
  try {
    // Sharing, like caching, starts once the cache listens for changes.
    await new Promise((r) => setTimeout(r, 300));
    let calls = 0;
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const lookUp = () => {
      const n = ++calls;
      return gate.then(() => n);
    };
    const burst = [cache.join('key:a', lookUp), cache.join('key:a', lookUp), cache.join('key:a', lookUp)];
    expect(calls).toBe(1);
    expect(await Promise.race([cache.join('key:b', lookUp), Promise.resolve('other ids look up on their own')])).toBe('other ids look up on their own');
    expect(calls).toBe(2);
    // A revocation heard while the look-up runs: later requests do not take its (maybe outdated) result.
    cache.invalidate({ keyId: 'some-key' });
    const later = cache.join('key:a', lookUp);
    expect(calls).toBe(3);
    open();
    expect(await Promise.all(burst)).toEqual([1, 1, 1]);
    expect(await later).toBe(3);
    // Settled look-ups are not reused: the cache itself decides what is still valid.
    expect(await cache.join('key:a', lookUp)).toBe(4);
  } finally {
    await cache.close();
  }
});

describe('rate limits in leases', () => {
  test('two replicas never admit more than the limit, refuse early by at most one lease, and give leases back', async () => {
    // 200 a minute, leases of 5% = 10 points.
    const lease = (c: Config): Config => ({ ...c, rateLimits: { ...c.rateLimits, leasePercent: 5, classes: { ...c.rateLimits.classes, read: { limit: 200, windowSeconds: 60 } } } });
    const one = await replica(lease);
    const two = await replica(lease);
    const created = await json(await h.post('/api/v1/api-keys', { name: 'lease', permissions: ['org:admin'] }));
    const key = created.api_key;
    const path = `/api/v1/organizations/${h.tenant.organizationId}`;
    const admitted = { [one.url]: 0, [two.url]: 0 };
    const remaining: number[] = [];
    for (let i = 0; i < 240; i++) {
      const url = i % 3 === 0 ? two.url : one.url;
      const res = await client(url, { apiKey: key }).fetch(path);
      if (res.status === 200) {
        admitted[url]! += 1;
        if (url === one.url) remaining.push(Number(res.headers.get('x-ratelimit-remaining')));
      } else {
        expect({ status: res.status, limit: res.headers.get('x-ratelimit-limit') }).toEqual({ status: 429, limit: '200' });
      }
    }
    const total = admitted[one.url]! + admitted[two.url]!;
    expect(total).toBeLessThanOrEqual(200);
    expect(total).toBeGreaterThanOrEqual(190);
    // The headers count down on each replica.
    expect(remaining).toEqual([...remaining].sort((x, y) => y - x));
    const counted = async (keyId: string) => {
      const [row] = await h.common.orm.em.fork().execute<{ points: number }[]>(`select points from rate_limits where key = ?`, [`rl:read:key:${keyId}`]);
      return Number(row!.points);
    };
    // The store was asked once per lease, not once per request.
    expect((await counted(created.key_id)) % 10).toBe(0);

    // A fresh window on two instances: a stopping one hands back what it did not use.
    const other = await json(await h.post('/api/v1/api-keys', { name: 'lease2', permissions: ['org:admin'] }));
    expect((await client(one.url, { apiKey: other.api_key }).fetch(path)).status).toBe(200);
    expect(await counted(other.key_id)).toBe(10);
    await one.stop();
    expect(await counted(other.key_id)).toBe(1);
    await two.stop();
  });
});

describe('usage metering in batches', () => {
  test('rows are written in batches, and a graceful stop writes what is queued', async () => {
    // A long interval: nothing is written before the stop.
    const r = await replica((c) => ({ ...c, metering: { ...c.metering, flushIntervalMs: 60_000 } }));
    const t = await h.newTenant();
    const c = client(r.url, { apiKey: t.apiKey });
    for (let i = 0; i < 25; i++) expect((await c.fetch(`/api/v1/organizations/${t.organizationId}`)).status).toBe(200);
    const rows = async () =>
      Number((await h.common.orm.em.fork().execute<{ n: string }[]>(`select count(*) as n from usage_records where api_key_id = ?`, [t.apiKeyId]))[0]!.n);
    // Whatever a client sends as its user agent is stored as sent (the batch travels as arrays).
    const agent = 'probe {a,"b"} \\ \'c\' NULL, ()';
    expect((await c.fetch(`/api/v1/organizations/${t.organizationId}`, { headers: { 'user-agent': agent } })).status).toBe(200);
    expect(await rows()).toBe(0);
    await r.stop();
    expect(await rows()).toBe(26);
    const stored = await h.common.orm.em.fork().execute<{ user_agent: string }[]>(`select user_agent from usage_records where api_key_id = ? and user_agent like 'probe%'`, [t.apiKeyId]);
    expect(stored.map((x) => x.user_agent)).toEqual([agent]);
  });
});

describe('job reads batched into one statement', () => {
  test('concurrent GET /jobs/{id} of several organizations, a share and unknown ids: each caller sees exactly what it would alone', async () => {
    const a = await h.newTenant({ name: 'Batch owner' });
    const b = await h.newTenant({ name: 'Batch other' });
    const c = await h.newTenant({ name: 'Batch grantee' });
    const submit = async (t: ApiClient) => {
      const media = (await json(await t.upload(await makeJpeg(8, 8), 'b.jpg', 'image/jpeg'))).id as string;
      const res = await t.post('/api/v1/process', { media_id: media, action_id: 'img_resize', parameters: { width: 4 } });
      expect(res.status).toBe(202);
      return { media, job: (await json(res)).id as string };
    };
    const ja = await submit(a);
    const jb = await submit(b);
    expect((await a.post(`/api/v1/media/${ja.media}/shares`, { organization_id: c.organizationId })).status).toBe(201);
    const unknown = '00000000-0000-4000-8000-000000000000';
    const cases: [ApiClient, string, number][] = [
      [a, ja.job, 200], [b, ja.job, 404], [c, ja.job, 200],
      [a, jb.job, 404], [b, jb.job, 200], [c, jb.job, 404],
      [a, unknown, 404], [b, 'not-a-uuid', 400],
    ];
    // Many rounds at once, so look-ups of different callers share statements.
    const all = Array.from({ length: 12 }, () => cases).flat();
    const replies = await Promise.all(all.map(async ([who, id]) => {
      const res = await who.fetch(`/api/v1/jobs/${id}`);
      return { status: res.status, body: await json(res) };
    }));
    replies.forEach((r, i) => {
      const [, id, status] = all[i]!;
      expect({ id, status: r.status }).toEqual({ id, status });
      if (status === 200) expect(r.body).toMatchObject({ id, status: 'queued' });
      else expect(r.body.error?.code).toBe(status === 404 ? 'NOT_FOUND' : 'VALIDATION_ERROR');
    });
  });

  test('concurrent submissions of several organizations: each reads only its own file', async () => {
    const a = await h.newTenant({ name: 'Submit A' });
    const b = await h.newTenant({ name: 'Submit B' });
    const upload = async (t: ApiClient) => (await json(await t.upload(await makeJpeg(8, 8), 's.jpg', 'image/jpeg'))).id as string;
    const [ma, mb] = [await upload(a), await upload(b)];
    const cases: [ApiClient, string, number][] = [
      [a, ma, 202], [b, ma, 404], [b, mb, 202], [a, mb, 404], [a, '00000000-0000-4000-8000-000000000000', 404],
    ];
    const all = Array.from({ length: 6 }, () => cases).flat();
    const replies = await Promise.all(all.map(async ([who, media]) => {
      const res = await who.post('/api/v1/process', { media_id: media, action_id: 'img_resize', parameters: { width: 4 } });
      return { status: res.status, body: await json(res) };
    }));
    replies.forEach((r, i) => {
      const [, media, status] = all[i]!;
      expect({ media, status: r.status }).toEqual({ media, status });
      if (status === 202) expect(r.body).toMatchObject({ status: 'queued', media_id: media });
    });
  });
});
