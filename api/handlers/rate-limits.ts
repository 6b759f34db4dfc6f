import { reply, type Route } from '../handler.js';
import { ROUTE_CLASSES } from '../auth/limits.js';
import { subjectOf } from '../middleware/rate-limit.js';
import type { LimitState } from '../services/rate-limit-service.js';
import type { Services } from '../services/index.js';
import { principalOf } from './auth.js';

export const getRateLimits = (s: Services, now: () => Date): Route<'getRateLimits'> => ({
  async handle(ctx) {
    const p = principalOf(ctx);
    const subject = subjectOf(ctx);
    const at = now().getTime();
    const limits = await Promise.all(ROUTE_CLASSES.map((c) => s.rateLimits.peek(c, subject, p.limits.classes[c])));
    const day = p.limits.requestsPerDay > 0 ? await s.rateLimits.peekDaily(p.organizationId, p.limits.requestsPerDay) : undefined;
    const key = p.apiKeyId ? p.limits.key : undefined;
    const quota = (l: LimitState) => ({ limit: l.limit, used: l.limit - l.remaining, remaining: l.remaining, reset_at: new Date(at + l.resetMs).toISOString(), window_seconds: l.windowSeconds });
    const keyMinute = key?.perMinute ? await s.rateLimits.peekKeyMinute(p.apiKeyId!, key.perMinute) : undefined;
    const keyDay = key?.perDay ? await s.rateLimits.peekKeyDaily(p.apiKeyId!, key.perDay) : undefined;
    reply(ctx, 'getRateLimits', 200, {
      subject: p.apiKeyId ? { type: 'api_key', id: p.apiKeyId } : { type: 'user', id: p.userId },
      limits: limits.map((l) => ({
        class: l.name as (typeof ROUTE_CLASSES)[number],
        limit: l.limit,
        remaining: l.remaining,
        reset_at: new Date(at + l.resetMs).toISOString(),
        window_seconds: l.windowSeconds,
      })),
      daily_quota: day
        ? { limit: day.limit, used: day.limit - day.remaining, remaining: day.remaining, reset_at: new Date(at + day.resetMs).toISOString() }
        : { limit: 0, used: 0, remaining: 0, reset_at: new Date(at + 86_400_000).toISOString() },
      ...(keyMinute || keyDay
        ? { api_key_limits: { ...(keyMinute ? { requests_per_minute: quota(keyMinute) } : {}), ...(keyDay ? { daily_quota: quota(keyDay) } : {}) } }
        : {}),
    });
  },
});
