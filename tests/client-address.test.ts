// The client address that login lockouts and anonymous rate limits count by. By default no
// X-Forwarded-For is believed; with TRUSTED_PROXY_COUNT=n the address n hops from the right is the
// client's (what the outermost proxy of ours saw), whatever the client wrote further left.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { createApp } from '#api/app.js';
import { loadConfig, type Config } from '#lib/config.js';
import { createLogger } from '#lib/logger.js';
import { startHarness, type Harness } from './support/harness.js';

let h: Harness;
const servers: Server[] = [];
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  for (const s of servers) s.close();
  await h?.stop();
});

/** Another API instance on the harness's database with `auth` requests per minute and `failures` failed logins. */
async function instance(trustedProxyCount: number, limits: { auth: number; failures: number }): Promise<number> {
  const config: Config = {
    ...h.config,
    http: { ...h.config.http, trustedProxyCount },
    rateLimits: { ...h.config.rateLimits, loginFailures: limits.failures, classes: { ...h.config.rateLimits.classes, auth: { limit: limits.auth, windowSeconds: 60 } } },
  };
  const app = createApp({ ...h.common, config, temporal: h.temporal, logger: createLogger('silent', 't'), clock: { now: () => new Date() }, metrics: h.metrics, tracer: trace.getTracer('t') });
  const server = createServer(app.callback()).listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((r) => server.once('listening', r));
  return (server.address() as AddressInfo).port;
}

const randomIp = () => `${1 + (randomBytes(1)[0]! % 222)}.${randomBytes(3).join('.')}`;
// Each test connects from its own loopback address, so its counters are its own.
const ownLoopback = () => `127.${randomBytes(3).join('.')}`;

/** A failed login sent from `localAddress` with the given X-Forwarded-For: its status. */
function login(port: number, localAddress: string, email: string, forwardedFor: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ email, password: 'not the password' });
    const req = request(
      { host: '127.0.0.1', port, localAddress, method: 'POST', path: '/api/v1/auth/login', headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('the default trusts no proxy: TRUSTED_PROXY_COUNT is 0 and TRUST_PROXY is refused', () => {
  expect(loadConfig({}).http.trustedProxyCount).toBe(0);
  expect(loadConfig({ TRUSTED_PROXY_COUNT: '2' }).http.trustedProxyCount).toBe(2);
  expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(/TRUSTED_PROXY_COUNT/);
  expect(() => loadConfig({ TRUSTED_PROXY_COUNT: '-1' })).toThrow(/TRUSTED_PROXY_COUNT/);
});

describe('with no trusted proxy (the default)', () => {
  test('a new X-Forwarded-For on every request does not escape the anonymous rate limit', async () => {
    const port = await instance(0, { auth: 3, failures: 1000 });
    const from = ownLoopback();
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push(await login(port, from, `rl-${randomUUID()}@example.test`, randomIp()));
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
  });

  test('a new X-Forwarded-For on every request does not escape the login lockout', async () => {
    const port = await instance(0, { auth: 1000, failures: 3 });
    const from = ownLoopback();
    const email = `lock-${randomUUID()}@example.test`;
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push(await login(port, from, email, `${randomIp()}, ${randomIp()}`));
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
  });
});

describe('with one trusted proxy', () => {
  test('the right-most hop is the client: what the client writes to its left changes nothing', async () => {
    const port = await instance(1, { auth: 3, failures: 1000 });
    const from = ownLoopback();
    const client = randomIp();
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push(await login(port, from, `rl-${randomUUID()}@example.test`, `${randomIp()}, ${client}`));
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    // Another client behind the same proxy (same socket address) has its own count.
    expect(await login(port, from, `rl-${randomUUID()}@example.test`, `${randomIp()}, ${randomIp()}`)).toBe(401);
  });

  test('the login lockout counts by that hop too', async () => {
    const port = await instance(1, { auth: 1000, failures: 3 });
    const from = ownLoopback();
    const client = randomIp();
    const email = `lock-${randomUUID()}@example.test`;
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push(await login(port, from, email, `${randomIp()}, ${client}`));
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
  });
});
