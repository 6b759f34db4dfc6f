import { reply, type Route } from '../handler.js';
import { toApiKey } from '../auth/mappers.js';
import { jsonBody } from '../middleware/body.js';
import type { Services } from '../services/index.js';
import { principalOf } from './auth.js';

const DAY_MS = 86_400_000;

export const listApiKeys = (s: Services, now: () => Date): Route<'listApiKeys'> => ({
  async handle(ctx) {
    const at = now();
    reply(ctx, 'listApiKeys', 200, { api_keys: (await s.apiKeys.list(principalOf(ctx))).map((k) => toApiKey(k, at)) });
  },
});

export const createApiKey = (s: Services, bodyLimitKb: number, now: () => Date): Route<'createApiKey'> => ({
  before: [jsonBody(bodyLimitKb)],
  async handle(ctx, { body }) {
    const expiresAt = body.expires_at ? new Date(body.expires_at) : body.expires_in_days ? new Date(now().getTime() + body.expires_in_days * DAY_MS) : null;
    const { key, secret } = await s.apiKeys.create(principalOf(ctx), {
      name: body.name,
      permissions: body.permissions,
      expiresAt,
      rateLimits: body.rate_limits,
    });
    reply(ctx, 'createApiKey', 201, { ...toApiKey(key, now()), api_key: secret });
  },
});

export const getApiKey = (s: Services, now: () => Date): Route<'getApiKey'> => ({
  async handle(ctx, { path }) {
    reply(ctx, 'getApiKey', 200, toApiKey(await s.apiKeys.get(principalOf(ctx), path.id), now()));
  },
});

export const updateApiKey = (s: Services, bodyLimitKb: number, now: () => Date): Route<'updateApiKey'> => ({
  before: [jsonBody(bodyLimitKb)],
  async handle(ctx, { path, body }) {
    const key = await s.apiKeys.update(principalOf(ctx), path.id, {
      name: body.name,
      permissions: body.permissions,
      expiresAt: body.expires_at === undefined ? undefined : body.expires_at === null ? null : new Date(body.expires_at),
      rateLimits: body.rate_limits,
    });
    reply(ctx, 'updateApiKey', 200, toApiKey(key, now()));
  },
});

export const revokeApiKey = (s: Services): Route<'revokeApiKey'> => ({
  async handle(ctx, { path }) {
    await s.apiKeys.revoke(principalOf(ctx), path.id);
    ctx.status = 204;
  },
});

export const rotateApiKey = (s: Services, bodyLimitKb: number, now: () => Date): Route<'rotateApiKey'> => ({
  before: [jsonBody(bodyLimitKb)],
  async handle(ctx, { path, body }) {
    const { key, secret } = await s.apiKeys.rotate(principalOf(ctx), path.id, body?.grace_period_seconds ?? 0);
    reply(ctx, 'rotateApiKey', 200, { ...toApiKey(key, now()), api_key: secret });
  },
});
