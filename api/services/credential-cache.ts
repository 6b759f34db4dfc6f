import type { Logger } from '#lib/logger.js';
import type { Principal } from '../auth/principal.js';
import { CREDENTIALS_CHANNEL } from '#entities/credential-triggers.js';
import { createPgListener } from './pg-listener.js';

/** What a change names: every cached principal of that key, user, organization or session is dropped. */
export interface CredentialChange {
  keyId?: string;
  userId?: string;
  organizationId?: string;
  sessionId?: string;
}

interface Entry {
  principal: Principal;
  /** Epoch ms after which the entry is not used. */
  until: number;
  /** API keys: when last_used_at was last written (epoch ms). */
  lastUsedAt?: number;
}

export interface CredentialCache {
  /** A principal resolved less than the TTL ago and not invalidated since; undefined otherwise. */
  get(id: string): Entry | undefined;
  /** Taken before a look-up: `set` ignores a result that a change made meanwhile may have outdated. */
  version(): number;
  /** Caches a resolved principal until `until` (epoch ms) or the TTL, whichever comes first. */
  set(id: string, version: number, principal: Principal, until: number, lastUsedAt?: number): void;
  /**
   * Runs `lookUp` for a miss, or hands back the look-up of the same id already under way when no
   * change has been heard since it began: a burst of requests with one credential (an expired
   * entry under load) costs one look-up, not one per request.
   */
  join<T>(id: string, lookUp: () => Promise<T>): Promise<T>;
  /** Drops the entries a change touches, in this instance (other instances hear it through NOTIFY). */
  invalidate(change: CredentialChange): void;
  close(): Promise<void>;
}

const MAX_ENTRIES = 50_000;

/**
 * Resolved API keys and sessions, kept for `ttlMs` so that a request needs no look-up. Caching is
 * on only while this instance LISTENs on the credentials channel, which the database triggers of
 * Migration20261201100000 notify at the commit of any revoke, rotation, expiry change, logout,
 * role change, removal or quota change: every instance drops the entry within milliseconds.
 * When the connection drops, the cache is emptied and bypassed until it is back.
 */
export function createCredentialCache(opts: { databaseUrl: string; ttlMs: number; logger: Logger }): CredentialCache {
  const { ttlMs, logger } = opts;
  const entries = new Map<string, Entry>();
  const inFlight = new Map<string, { version: number; result: Promise<unknown> }>();
  let changes = 0;

  function invalidate(c: CredentialChange): void {
    changes += 1;
    for (const [id, e] of entries) {
      const p = e.principal;
      if (
        (c.keyId && p.apiKeyId === c.keyId) ||
        (c.userId && p.userId === c.userId) ||
        (c.organizationId && p.organizationId === c.organizationId) ||
        (c.sessionId && p.sessionId === c.sessionId)
      ) {
        entries.delete(id);
      }
    }
  }

  function onNotification(payload: string): void {
    const [kind, id] = payload.split(':', 2);
    if (!id) return;
    if (kind === 'key') invalidate({ keyId: id });
    else if (kind === 'user') invalidate({ userId: id });
    else if (kind === 'org') invalidate({ organizationId: id });
    else if (kind === 'session') invalidate({ sessionId: id });
    else clear();
  }

  function clear(): void {
    changes += 1;
    entries.clear();
  }

  // Caching is bypassed while no listener hears changes: whatever it missed cannot be known.
  const listener =
    ttlMs === 0
      ? undefined
      : createPgListener({
          databaseUrl: opts.databaseUrl,
          channel: CREDENTIALS_CHANNEL,
          logger,
          degraded: 'looking credentials up on every request',
          onPayload: onNotification,
          onLost: clear,
        });
  const listening = () => listener?.listening() ?? false;

  return {
    get(id) {
      if (!listening()) return undefined;
      const e = entries.get(id);
      if (e && e.until <= Date.now()) {
        entries.delete(id);
        return undefined;
      }
      return e;
    },
    version: () => changes,
    join<T>(id: string, lookUp: () => Promise<T>): Promise<T> {
      const running = inFlight.get(id);
      if (running && running.version === changes && listening()) return running.result as Promise<T>;
      const result = lookUp();
      const entry = { version: changes, result };
      inFlight.set(id, entry);
      const done = () => {
        if (inFlight.get(id) === entry) inFlight.delete(id);
      };
      result.then(done, done);
      return result;
    },
    set(id, version, principal, until, lastUsedAt) {
      if (!listening() || version !== changes) return;
      if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value!);
      entries.set(id, { principal, until: Math.min(until, Date.now() + ttlMs), lastUsedAt });
    },
    invalidate,
    async close() {
      await listener?.close();
      clear();
    },
  };
}
