import { reply, type Route } from '../handler.js';
import type { Services } from '../services/index.js';

export const getUsage = (s: Services): Route<'getUsage'> => ({
  async handle(ctx, { query }) {
    const period = s.usage.period(query.from as string | undefined, query.to as string | undefined);
    reply(ctx, 'getUsage', 200, await s.usage.summary(ctx.state.organizationId, period));
  },
});

export const getUsageDetailed = (s: Services): Route<'getUsageDetailed'> => ({
  async handle(ctx, { query }) {
    const period = s.usage.period(query.from as string | undefined, query.to as string | undefined);
    reply(ctx, 'getUsageDetailed', 200, await s.usage.detailed(ctx.state.organizationId, period, query.group_by ?? 'day'));
  },
});
