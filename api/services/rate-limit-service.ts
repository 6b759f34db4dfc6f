import type { MikroORM } from '@mikro-orm/postgresql';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config, RouteClass } from '../../lib/config.js';
import { RateLimitedError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { sha256Hex } from '../../lib/tokens.js';

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
const STORE_TIMEOUT_MS = 2000;

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
    return toState(name, points, duration, res, !res || res.consumedPoints < points);
  }

  const { loginFailures, loginFailureWindowSeconds: window } = config.rateLimits;
  const failureKeys = (ip: string, email: string) => [
    { key: `${ip}:${sha256Hex(email.toLowerCase())}`, points: loginFailures },
    // Many emails from one address (credential stuffing) are slowed down too.
    { key: ip, points: loginFailures * 10 },
  ];

  return {
    /** Counts one request of `routeClass` for `subject` (`key:<id>`, `user:<id>` or `ip:<addr>`). */
    hit: (routeClass: RouteClass, subject: string, perMinute: number) => consume(routeClass, `rl:${routeClass}`, subject, perMinute, 60),
    peek: (routeClass: RouteClass, subject: string, perMinute: number) => peek(routeClass, `rl:${routeClass}`, subject, perMinute, 60),
    hitDaily: (organizationId: string, perDay: number) => consume('day', 'quota:day', organizationId, perDay, 86_400),
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
  };
}

export type RateLimitService = ReturnType<typeof createRateLimitService>;

/** The ORM's own `pg` pool as the counters' store: no second pool to size or close. */
export function poolStore(orm: MikroORM): LimitStore {
  return { query: async (q) => (await orm.em.getConnection().getNativeClient()).query(q as never) as never };
}
