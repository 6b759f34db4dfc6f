import { ServiceUnavailableError } from '#lib/errors.js';
import { reply, type Route } from '../handler.js';
import type { JsonObject } from '../openapi/document.js';
import type { Services } from '../services/index.js';

export const getOpenApiDocument = (doc: JsonObject): Route<'getOpenApiDocument'> => ({
  async handle(ctx) {
    reply(ctx, 'getOpenApiDocument', 200, doc);
  },
});

export const getHealth = (s: Services): Route<'getHealth'> => ({
  async handle(ctx) {
    const { healthy, checks } = await s.health.check();
    if (!healthy) throw new ServiceUnavailableError('A dependency is unavailable', { checks });
    reply(ctx, 'getHealth', 200, { status: 'ok', checks });
  },
});
