import type { RouteClass } from '../../lib/config.js';
import { QuotaExceededError, RateLimitedError } from '../../lib/errors.js';
import type { AppContext, AppMiddleware } from '../handler.js';
import type { LimitState, RateLimitService } from '../services/rate-limit-service.js';

/** The caller's counter: per API key, per user, or per IP when anonymous. */
export function subjectOf(ctx: AppContext): string {
  const p = ctx.state.principal;
  if (p?.apiKeyId) return `key:${p.apiKeyId}`;
  if (p) return `user:${p.userId}`;
  return `ip:${ctx.ip}`;
}

/** IETF draft headers (structured fields) plus the X-RateLimit-* ones of the product spec. */
export function setRateLimitHeaders(ctx: AppContext, s: LimitState): void {
  const resetSeconds = Math.max(0, Math.ceil(s.resetMs / 1000));
  ctx.set('RateLimit-Policy', `"${s.name}";q=${s.limit};w=${s.windowSeconds}`);
  ctx.set('RateLimit', `"${s.name}";r=${s.remaining};t=${resetSeconds}`);
  ctx.set('X-RateLimit-Limit', String(s.limit));
  ctx.set('X-RateLimit-Remaining', String(s.remaining));
  ctx.set('X-RateLimit-Reset', String(Math.ceil((Date.now() + s.resetMs) / 1000)));
}

/**
 * Counts the request in its route class and, for authenticated callers, in the organization's
 * daily quota. Also gives every 429 raised further down (failed-login lockout, concurrency
 * quota) its Retry-After.
 */
export function rateLimit(routeClass: RouteClass, limits: RateLimitService, anonymousPerMinute: () => number): AppMiddleware {
  return async function rateLimit(ctx, next) {
    const principal = ctx.state.principal;
    const perMinute = principal ? principal.limits.perMinute[routeClass] : anonymousPerMinute();
    const state = await limits.hit(routeClass, subjectOf(ctx), perMinute);
    setRateLimitHeaders(ctx, state);
    if (!state.allowed) {
      const retryAfter = Math.max(1, Math.ceil(state.resetMs / 1000));
      ctx.set('Retry-After', String(retryAfter));
      throw new RateLimitedError(retryAfter, { class: routeClass, limit: state.limit });
    }
    if (principal && principal.limits.requestsPerDay > 0) {
      const day = await limits.hitDaily(principal.organizationId, principal.limits.requestsPerDay);
      if (!day.allowed) {
        const retryAfter = Math.max(1, Math.ceil(day.resetMs / 1000));
        ctx.set('Retry-After', String(retryAfter));
        throw new QuotaExceededError('requests_per_day', day.limit, retryAfter);
      }
    }
    try {
      await next();
    } catch (err) {
      const wait = (err as { retryAfterSeconds?: number }).retryAfterSeconds;
      if ((err instanceof RateLimitedError || err instanceof QuotaExceededError) && wait) ctx.set('Retry-After', String(wait));
      throw err;
    }
  };
}
