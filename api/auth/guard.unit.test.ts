import { loadConfig } from '../../lib/config.js';
import { createLogger } from '../../lib/logger.js';
import { loadSpec, type JsonObject } from '../openapi/document.js';
import { listOperations } from '../openapi/operations.js';
import { buildRouter } from '../router.js';
import { createRateLimitService } from '../services/rate-limit-service.js';
import { createGuard } from './guard.js';
import { PERMISSIONS } from './permissions.js';

const doc = loadSpec();
const noop = { handle: async () => undefined };
const routesFor = (d: JsonObject) => Object.fromEntries(listOperations(d).map((o) => [o.operationId, noop]));
const config = loadConfig({ NODE_ENV: 'test' });
const limits = createRateLimitService({ store: { query: async () => ({ rows: [], rowCount: 0 }) }, config, logger: createLogger('silent', 't') });
const auth = { bearer: async () => Promise.reject(new Error('unused')), apiKey: async () => Promise.reject(new Error('unused')) };

test('every secured operation of the spec names a known permission; public ones are the expected few', () => {
  const ops = listOperations(doc);
  for (const op of ops.filter((o) => o.security.length)) expect({ op: op.operationId, known: (PERMISSIONS as readonly string[]).includes(op.permission ?? '') }).toEqual({ op: op.operationId, known: true });
  const pub = ops.filter((o) => !o.security.length).map((o) => o.operationId);
  expect(pub).toEqual(expect.arrayContaining(['getHealth', 'getOpenApiDocument', 'register', 'login', 'refreshSession']));
  expect(pub).not.toEqual(expect.arrayContaining(['getMedia']));
  expect(() => buildRouter(doc, routesFor(doc), createGuard(auth, limits, config))).not.toThrow();
});

test('boot fails when a secured operation has no x-permission, or an unknown one', () => {
  const broken = structuredClone(doc) as any;
  delete broken.paths['/api/v1/media/{id}'].get['x-permission'];
  expect(() => buildRouter(broken, routesFor(broken))).toThrow(/secured operations without x-permission: getMedia/);
  const unknown = structuredClone(doc) as any;
  unknown.paths['/api/v1/media/{id}'].get['x-permission'] = 'media:everything';
  expect(() => buildRouter(unknown, routesFor(unknown), createGuard(auth, limits, config))).toThrow(/getMedia: x-permission "media:everything"/);
});

test('JWT_SECRET: a dev default outside production, required by the API in production, never short', async () => {
  expect(Buffer.byteLength(loadConfig({ NODE_ENV: 'development' }).auth.jwtSecret)).toBeGreaterThanOrEqual(32);
  const prod = loadConfig({ NODE_ENV: 'production' });
  expect(prod.auth.jwtSecret).toBe('');
  const { createAccessTokens } = await import('../../lib/tokens.js');
  expect(() => createAccessTokens({ secret: prod.auth.jwtSecret, issuer: 'i', audience: 'a', ttlSeconds: 1 })).toThrow(/JWT_SECRET is required/);
  expect(() => loadConfig({ JWT_SECRET: 'too short' })).toThrow(/JWT_SECRET must be at least 32 bytes/);
});

test('argon2 parameters cannot go below OWASP’s minimum; durations parse', () => {
  expect(loadConfig({}).auth.argon2).toEqual({ memoryKib: 19456, timeCost: 2, parallelism: 1 });
  expect(() => loadConfig({ ARGON2_MEMORY_KIB: '4096' })).toThrow(/ARGON2_MEMORY_KIB/);
  expect(() => loadConfig({ ARGON2_TIME_COST: '1' })).toThrow(/ARGON2_TIME_COST/);
  const c = loadConfig({ JWT_ACCESS_TTL: '5m', JWT_REFRESH_TTL: '2d' });
  expect([c.auth.accessTtlSeconds, c.auth.refreshTtlSeconds]).toEqual([300, 172_800]);
  expect(() => loadConfig({ JWT_ACCESS_TTL: 'soon' })).toThrow(/JWT_ACCESS_TTL/);
});
