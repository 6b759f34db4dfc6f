import type { Logger } from '#lib/logger.js';

interface PgClient {
  connect(): Promise<void>;
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
  on(event: 'notification', fn: (m: { channel: string; payload?: string }) => void): void;
  on(event: 'error' | 'end', fn: (err?: Error) => void): void;
  connection?: { stream?: { unref?: () => void } };
}
const pgModule = 'pg'; // comes with @mikro-orm/postgresql; a variable specifier because it ships no types
const RECONNECT_MS = 1000;

export interface PgListener {
  /** True while notifications arrive: anything missed while false must be looked up. */
  listening(): boolean;
  close(): Promise<void>;
}

/**
 * One Postgres connection of its own (outside the pool) that LISTENs on `channel` and hands each
 * payload to `onPayload`. When the connection drops, `onLost` is told (what was missed cannot be
 * known) and it reconnects every second until `close`.
 */
export function createPgListener(opts: {
  databaseUrl: string;
  channel: string;
  logger: Logger;
  /** What stops working without notifications, for the warning. */
  degraded: string;
  onPayload: (payload: string) => void;
  onLost?: () => void;
}): PgListener {
  let up = false;
  let closed = false;
  let client: PgClient | undefined;
  let retry: NodeJS.Timeout | undefined;

  function lost(c: PgClient, err?: Error): void {
    if (client !== c) return;
    up = false;
    client = undefined;
    opts.onLost?.();
    c.end().catch(() => undefined);
    if (closed) return;
    opts.logger.warn({ err: err?.message, channel: opts.channel }, `${opts.channel} notifications lost; ${opts.degraded} until they are back`);
    retry = setTimeout(() => void listen(), RECONNECT_MS);
    retry.unref();
  }

  async function listen(): Promise<void> {
    if (closed) return;
    const pg = (await import(pgModule)) as { default: { Client: new (o: { connectionString: string }) => PgClient } };
    const c = new pg.default.Client({ connectionString: opts.databaseUrl });
    client = c;
    c.on('notification', (m) => m.channel === opts.channel && opts.onPayload(m.payload ?? ''));
    c.on('error', (err) => lost(c, err));
    c.on('end', () => lost(c, new Error('connection ended')));
    try {
      await c.connect();
      // A background subscription: it never keeps the process alive on its own.
      c.connection?.stream?.unref?.();
      await c.query(`LISTEN ${opts.channel}`);
      if (closed) return void (await c.end().catch(() => undefined));
      up = true;
    } catch (err) {
      lost(c, err as Error);
    }
  }
  void listen();

  return {
    listening: () => up,
    async close() {
      closed = true;
      clearTimeout(retry);
      up = false;
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}
