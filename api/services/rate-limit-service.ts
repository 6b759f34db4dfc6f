import type { MikroORM } from '@mikro-orm/postgresql';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config, RatePolicy, RouteClass } from '#lib/config.js';
import { RateLimitedError } from '#lib/errors.js';
import type { Logger } from '#lib/logger.js';
import { sha256Hex } from '#lib/tokens.js';

/** The slice of a `pg` Pool that rate-limiter-flexible's Postgres store uses. */
export interface LimitStore {
  query(q: { text: string; values?: unknown[]; name?: string }): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

export interface LimitState {
  name: string;
  allowed: boolean;
  limit: number;
  remaining: number;
  windowSeconds: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

const TABLE = 'rate_limits'; // created by Migration20261121010000
/** Per-minute classes keep their original counters; another window counts apart (a changed window starts afresh). */
const classPrefix = (routeClass: RouteClass, p: RatePolicy) => (p.windowSeconds === 60 ? `rl:${routeClass}` : `rl:${routeClass}:${p.windowSeconds}`);
const STORE_TIMEOUT_MS = 2000;
/** The largest lease one instance takes at once, whatever the limit. */
const MAX_LEASE = 1000;
const SWEEP_EVERY_MS = 10_000;

/** Points of one counter that this instance took from the store and hands out itself. */
interface Lease {
  prefix: string;
  key: string;
  points: number;
  duration: number;
  /** Taken from the store and not handed out yet. */
  available: number;
  /** The store's count once this lease was taken (this instance's unused points included). */
  consumed: number;
  /** When the store's window ends (epoch ms). */
  windowEnd: number;
  /** The store had nothing left for this window. */
  exhausted: boolean;
  claim?: Promise<void>;
}

/**
 * Counters in Postgres, shared by every API instance. When the store fails or is slow, each
 * limiter falls back to a per-process in-memory limiter with the same limits: limiting goes on,
 * only per instance instead of globally.
 */
export function createRateLimitService(opts: { store: LimitStore; config: Config; logger: Logger }) {
  const { config, logger } = opts;
  let lastWarning = 0;
  const store: LimitStore = {
    async query(q) {
      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([
          opts.store.query(q),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error('rate-limit store timed out')), STORE_TIMEOUT_MS);
          }),
        ]);
      } catch (err) {
        if (Date.now() - lastWarning > 30_000) {
          lastWarning = Date.now();
          logger.warn({ err: (err as Error).message }, 'rate-limit store failed; limiting per process');
        }
        throw err;
      } finally {
        clearTimeout(timer);
      }
    },
  };

  const limiters = new Map<string, RateLimiterAbstract>();
  function limiter(prefix: string, points: number, duration: number): RateLimiterAbstract {
    const id = `${prefix}|${points}|${duration}`;
    let l = limiters.get(id);
    if (!l) {
      l = new RateLimiterPostgres({
        storeClient: store,
        storeType: 'pool',
        tableName: TABLE,
        tableCreated: true,
        // Expired rows are removed by the retention sweep, not by a timer per limiter.
        clearExpiredByTimeout: false,
        keyPrefix: prefix,
        points,
        duration,
        insuranceLimiter: new RateLimiterMemory({ keyPrefix: prefix, points, duration }),
      });
      limiters.set(id, l);
    }
    return l;
  }

  const toState = (name: string, points: number, duration: number, res: RateLimiterRes | null, allowed: boolean): LimitState => ({
    name,
    allowed,
    limit: points,
    remaining: res ? Math.max(0, points - res.consumedPoints) : points,
    windowSeconds: duration,
    resetMs: res && res.msBeforeNext > 0 ? res.msBeforeNext : duration * 1000,
  });

  async function consume(name: string, prefix: string, key: string, points: number, duration: number): Promise<LimitState> {
    try {
      return toState(name, points, duration, await limiter(prefix, points, duration).consume(key), true);
    } catch (err) {
      if (err instanceof RateLimiterRes) return toState(name, points, duration, err, false);
      throw err;
    }
  }

  async function peek(name: string, prefix: string, key: string, points: number, duration: number): Promise<LimitState> {
    const res = await limiter(prefix, points, duration).get(key).catch(() => null);
    const lease = leases.get(leaseId(prefix, key, points, duration));
    // Points this instance holds unused are still the caller's.
    const unused = lease && lease.windowEnd > Date.now() ? lease.available : 0;
    const state = toState(name, points, duration, res, !res || res.consumedPoints - unused < points);
    return { ...state, remaining: Math.min(points, state.remaining + unused) };
  }

  /**
   * Local allowance: with a lease size above 1, an instance takes that many points from the
   * shared counter in one round trip (concurrent requests share the claim) and hands them out
   * without asking the store again until they run out or the window ends. The store never
   * counts fewer than were admitted, so the limit holds across instances; a caller may be
   * refused early by the points other instances hold unused (at most leasePercent% of the
   * limit per other instance), which they give back when they stop.
   */
  const leases = new Map<string, Lease>();
  const leaseId = (prefix: string, key: string, points: number, duration: number) => `${prefix}|${points}|${duration}|${key}`;
  const leaseSize = (points: number) => Math.min(MAX_LEASE, Math.floor((points * config.rateLimits.leasePercent) / 100));
  let lastSweep = Date.now();

  function sweep(now: number): void {
    if (now - lastSweep < SWEEP_EVERY_MS) return;
    lastSweep = now;
    for (const [id, l] of leases) if (!l.claim && l.windowEnd <= now) leases.delete(id);
  }

  async function claim(l: Lease, size: number): Promise<void> {
    let res: RateLimiterRes;
    try {
      res = await limiter(l.prefix, l.points, l.duration).consume(l.key, size);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      res = err;
    }
    const before = res.consumedPoints - size;
    const granted = Math.max(0, Math.min(size, l.points - before));
    l.available = granted;
    l.consumed = before + granted;
    l.windowEnd = Date.now() + (res.msBeforeNext > 0 ? res.msBeforeNext : l.duration * 1000);
    l.exhausted = granted < size;
  }

  async function consumeLeased(name: string, prefix: string, key: string, points: number, duration: number): Promise<LimitState> {
    const size = leaseSize(points);
    if (size <= 1) return consume(name, prefix, key, points, duration);
    const id = leaseId(prefix, key, points, duration);
    for (;;) {
      const now = Date.now();
      sweep(now);
      let l = leases.get(id);
      if (l?.claim) {
        await l.claim;
        continue;
      }
      if (l && l.windowEnd <= now) l = undefined;
      const state = (allowed: boolean): LimitState => ({
        name,
        allowed,
        limit: points,
        remaining: allowed ? Math.max(0, points - (l!.consumed - l!.available)) : 0,
        windowSeconds: duration,
        resetMs: l!.windowEnd - now,
      });
      if (l && l.available > 0) {
        l.available -= 1;
        return state(true);
      }
      if (l?.exhausted) return state(false);
      const fresh: Lease = { prefix, key, points, duration, available: 0, consumed: 0, windowEnd: 0, exhausted: false };
      leases.set(id, fresh);
      fresh.claim = claim(fresh, size)
        .catch((err: unknown) => {
          leases.delete(id);
          throw err;
        })
        .finally(() => (fresh.claim = undefined));
      await fresh.claim;
    }
  }

  const { loginFailures, loginFailureWindowSeconds: window } = config.rateLimits;
  const failureKeys = (ip: string, email: string) => [
    { key: `${ip}:${sha256Hex(email.toLowerCase())}`, points: loginFailures },
    // Many emails from one address (credential stuffing) are slowed down too.
    { key: ip, points: loginFailures * 10 },
  ];

  return {
    /** Counts one request of `routeClass` for `subject` (`key:<id>`, `user:<id>` or `ip:<addr>`) under the class's policy. */
    hit: (routeClass: RouteClass, subject: string, p: RatePolicy) => consumeLeased(routeClass, classPrefix(routeClass, p), subject, p.limit, p.windowSeconds),
    peek: (routeClass: RouteClass, subject: string, p: RatePolicy) => peek(routeClass, classPrefix(routeClass, p), subject, p.limit, p.windowSeconds),
    /** An API key's own limits, over all its requests. */
    hitKeyMinute: (keyId: string, perMinute: number) => consumeLeased('key-minute', 'rl:key-minute', keyId, perMinute, 60),
    peekKeyMinute: (keyId: string, perMinute: number) => peek('key-minute', 'rl:key-minute', keyId, perMinute, 60),
    hitKeyDaily: (keyId: string, perDay: number) => consumeLeased('key-day', 'quota:key-day', keyId, perDay, 86_400),
    peekKeyDaily: (keyId: string, perDay: number) => peek('key-day', 'quota:key-day', keyId, perDay, 86_400),
    hitDaily: (organizationId: string, perDay: number) => consumeLeased('day', 'quota:day', organizationId, perDay, 86_400),
    peekDaily: (organizationId: string, perDay: number) => peek('day', 'quota:day', organizationId, perDay, 86_400),

    /** Failed logins: refused for the rest of the window once there were too many. */
    logins: {
      async assertAllowed(ip: string, email: string): Promise<void> {
        for (const { key, points } of failureKeys(ip, email)) {
          const state = await peek('login', 'login:fail', key, points, window);
          if (!state.allowed) throw new RateLimitedError(Math.ceil(state.resetMs / 1000), { reason: 'too many failed logins' });
        }
      },
      async failed(ip: string, email: string): Promise<void> {
        for (const { key, points } of failureKeys(ip, email)) await consume('login', 'login:fail', key, points, window);
      },
      async succeeded(ip: string, email: string): Promise<void> {
        const [own] = failureKeys(ip, email);
        await limiter('login:fail', own!.points, window).delete(own!.key).catch(() => undefined);
      },
    },

    /** At shutdown: the points this instance holds unused go back to the shared counters. */
    async close(): Promise<void> {
      const now = Date.now();
      const unused = [...leases.values()].filter((l) => !l.claim && l.available > 0 && l.windowEnd > now);
      leases.clear();
      await Promise.all(unused.map((l) => limiter(l.prefix, l.points, l.duration).reward(l.key, l.available).catch(() => undefined)));
    },
  };
}

export type RateLimitService = ReturnType<typeof createRateLimitService>;

/** The ORM's own `pg` pool as the counters' store: no second pool to size or close. */
export function poolStore(orm: MikroORM): LimitStore {
  return { query: async (q) => (await orm.em.getConnection().getNativeClient()).query(q as never) as never };
}
