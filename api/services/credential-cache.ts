import type { Logger } from '../../lib/logger.js';
import type { Principal } from '../auth/principal.js';
import { CREDENTIALS_CHANNEL } from '../../entities/credential-triggers.js';

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
  /** Drops the entries a change touches, in this instance (other instances hear it through NOTIFY). */
  invalidate(change: CredentialChange): void;
  close(): Promise<void>;
}

interface PgClient {
  connect(): Promise<void>;
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
  on(event: 'notification', fn: (m: { channel: string; payload?: string }) => void): void;
  on(event: 'error' | 'end', fn: (err?: Error) => void): void;
  connection?: { stream?: { unref?: () => void } };
}
const pgModule = 'pg'; // comes with @mikro-orm/postgresql; a variable specifier because it ships no types
const MAX_ENTRIES = 50_000;
const RECONNECT_MS = 1000;

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
  let listening = false;
  let closed = false;
  let client: PgClient | undefined;
  let retry: NodeJS.Timeout | undefined;
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

  function lost(c: PgClient, err?: Error): void {
    if (client !== c) return;
    listening = false;
    clear();
    client = undefined;
    c.end().catch(() => undefined);
    if (closed) return;
    logger.warn({ err: err?.message }, 'credential change notifications lost; looking credentials up on every request until they are back');
    retry = setTimeout(() => void listen(), RECONNECT_MS);
    retry.unref();
  }

  async function listen(): Promise<void> {
    if (closed || ttlMs === 0) return;
    const pg = (await import(pgModule)) as { default: { Client: new (o: { connectionString: string }) => PgClient } };
    const c = new pg.default.Client({ connectionString: opts.databaseUrl });
    client = c;
    c.on('notification', (m) => m.channel === CREDENTIALS_CHANNEL && onNotification(m.payload ?? ''));
    c.on('error', (err) => lost(c, err));
    c.on('end', () => lost(c, new Error('connection ended')));
    try {
      await c.connect();
      // A background subscription: it never keeps the process alive on its own.
      c.connection?.stream?.unref?.();
      await c.query(`LISTEN ${CREDENTIALS_CHANNEL}`);
      if (closed) return void (await c.end().catch(() => undefined));
      listening = true;
    } catch (err) {
      lost(c, err as Error);
    }
  }
  void listen();

  return {
    get(id) {
      if (!listening) return undefined;
      const e = entries.get(id);
      if (e && e.until <= Date.now()) {
        entries.delete(id);
        return undefined;
      }
      return e;
    },
    version: () => changes,
    set(id, version, principal, until, lastUsedAt) {
      if (!listening || version !== changes) return;
      if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value!);
      entries.set(id, { principal, until: Math.min(until, Date.now() + ttlMs), lastUsedAt });
    },
    invalidate,
    async close() {
      closed = true;
      clearTimeout(retry);
      listening = false;
      clear();
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}
