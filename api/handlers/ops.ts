import { ServiceUnavailableError } from '#lib/errors.js';
import { reply, type Route } from '../handler.js';
import type { Services } from '../services/index.js';
import { uptimeSeconds } from '../services/system-service.js';

export const getMetrics = (s: Services): Route<'getMetrics'> => ({
  async handle(ctx) {
    const { contentType, body } = await s.metrics.render();
    ctx.type = contentType;
    ctx.body = body;
  },
});

export const getLiveness = (): Route<'getLiveness'> => ({
  async handle(ctx) {
    reply(ctx, 'getLiveness', 200, { status: 'ok', uptime_seconds: uptimeSeconds() });
  },
});

export const getReadiness = (s: Services): Route<'getReadiness'> => ({
  async handle(ctx) {
    const { healthy, checks } = await s.health.check();
    if (!healthy) throw new ServiceUnavailableError('Not ready: a dependency is unavailable', { checks });
    reply(ctx, 'getReadiness', 200, { status: 'ok', checks });
  },
});

export const getSystemStatus = (s: Services): Route<'getSystemStatus'> => ({
  async handle(ctx) {
    reply(ctx, 'getSystemStatus', 200, await s.system.status(ctx.state.organizationId));
  },
});

export const getSystemConfig = (s: Services): Route<'getSystemConfig'> => ({
  async handle(ctx) {
    reply(ctx, 'getSystemConfig', 200, s.system.config());
  },
});

export const getSupportedFormats = (s: Services): Route<'getSupportedFormats'> => ({
  async handle(ctx) {
    reply(ctx, 'getSupportedFormats', 200, s.system.supportedFormats());
  },
});
