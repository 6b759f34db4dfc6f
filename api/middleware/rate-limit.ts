import type { RatePolicy, RouteClass } from '#lib/config.js';
import { QuotaExceededError, RateLimitedError } from '#lib/errors.js';
import type { AppContext, AppMiddleware } from '../handler.js';
import type { LimitState, RateLimitService } from '../services/rate-limit-service.js';

/** The caller's counter: per API key, per user, or per IP when anonymous. */
export function subjectOf(ctx: AppContext): string {
  const p = ctx.state.principal;
  if (p?.apiKeyId) return `key:${p.apiKeyId}`;
  if (p) return `user:${p.userId}`;
  return `ip:${ctx.ip}`;
}

/**
 * IETF draft headers (structured fields: every policy that counted the request, its class first)
 * plus the X-RateLimit-* ones of the product spec, for the policy with the fewest requests left.
 */
export function setRateLimitHeaders(ctx: AppContext, states: LimitState | LimitState[]): void {
  const all = Array.isArray(states) ? states : [states];
  const now = Date.now();
  ctx.set('RateLimit-Policy', all.map((s) => `"${s.name}";q=${s.limit};w=${s.windowSeconds}`).join(', '));
  ctx.set('RateLimit', all.map((s) => `"${s.name}";r=${s.remaining};t=${Math.max(0, Math.ceil(s.resetMs / 1000))}`).join(', '));
  const tightest = all.reduce((a, b) => (b.remaining < a.remaining || (!b.allowed && a.allowed) ? b : a));
  ctx.set('X-RateLimit-Limit', String(tightest.limit));
  ctx.set('X-RateLimit-Remaining', String(tightest.remaining));
  ctx.set('X-RateLimit-Reset', String(Math.ceil((now + tightest.resetMs) / 1000)));
}

const retryAfterOf = (s: LimitState) => Math.max(1, Math.ceil(s.resetMs / 1000));

/**
 * Counts the request in its route class (its own window), then, for an API key with its own
 * limits, in the key's per-minute and daily counters, then in the organization's daily quota.
 * The first policy that refuses answers 429 (RATE_LIMITED for rates, QUOTA_EXCEEDED for daily
 * quotas). Each counter is leased (see api/services/rate-limit-service.ts), so a key or
 * organization without those limits costs nothing more. Also gives every 429 raised further down
 * (failed-login lockout, concurrency quota) its Retry-After.
 */
export function rateLimit(routeClass: RouteClass, limits: RateLimitService, anonymous: () => RatePolicy): AppMiddleware {
  return async function rateLimit(ctx, next) {
    const principal = ctx.state.principal;
    const states: LimitState[] = [];
    const refuse = (state: LimitState, err: Error): never => {
      setRateLimitHeaders(ctx, states);
      ctx.set('Retry-After', String(retryAfterOf(state)));
      throw err;
    };
    const cls = await limits.hit(routeClass, subjectOf(ctx), principal ? principal.limits.classes[routeClass] : anonymous());
    states.push(cls);
    if (!cls.allowed) refuse(cls, new RateLimitedError(retryAfterOf(cls), { class: routeClass, limit: cls.limit, window_seconds: cls.windowSeconds }));
    const key = principal?.apiKeyId ? principal.limits.key : undefined;
    if (key?.perMinute) {
      const minute = await limits.hitKeyMinute(principal!.apiKeyId!, key.perMinute);
      states.push(minute);
      if (!minute.allowed) refuse(minute, new RateLimitedError(retryAfterOf(minute), { class: 'key-minute', limit: minute.limit, window_seconds: 60 }));
    }
    if (key?.perDay) {
      const day = await limits.hitKeyDaily(principal!.apiKeyId!, key.perDay);
      states.push(day);
      if (!day.allowed) refuse(day, new QuotaExceededError('daily_quota', day.limit, retryAfterOf(day)));
    }
    if (principal && principal.limits.requestsPerDay > 0) {
      const day = await limits.hitDaily(principal.organizationId, principal.limits.requestsPerDay);
      states.push(day);
      if (!day.allowed) refuse(day, new QuotaExceededError('requests_per_day', day.limit, retryAfterOf(day)));
    }
    setRateLimitHeaders(ctx, states);
    try {
      await next();
    } catch (err) {
      const wait = (err as { retryAfterSeconds?: number }).retryAfterSeconds;
      if ((err instanceof RateLimitedError || err instanceof QuotaExceededError) && wait) ctx.set('Retry-After', String(wait));
      throw err;
    }
  };
}
