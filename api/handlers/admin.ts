import { reply, type Route } from '../handler.js';
import type { Services } from '../services/index.js';

export const getAdminHealth = (s: Services): Route<'getAdminHealth'> => ({
  async handle(ctx) {
    reply(ctx, 'getAdminHealth', 200, await s.admin.health());
  },
});

export const getAdminStats = (s: Services): Route<'getAdminStats'> => ({
  async handle(ctx) {
    reply(ctx, 'getAdminStats', 200, await s.admin.stats());
  },
});
