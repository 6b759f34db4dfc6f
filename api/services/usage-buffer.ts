import type { MikroORM } from '@mikro-orm/postgresql';
import { UsageRecordSchema } from '#entities/index.js';
import type { Logger } from '#lib/logger.js';
import type { RequestUsage } from './usage-service.js';

const T = UsageRecordSchema.meta.tableName;
const COLUMNS = [
  'organization_id', 'user_id', 'api_key_id', 'action_type', 'endpoint', 'http_method', 'response_status',
  'request_ip', 'user_agent', 'bytes_in', 'bytes_out', 'processing_time_ms', 'file_size_bytes', 'media_type', 'timestamp',
] as const;
// The Postgres type of each column's array: a batch goes as one array per column (unnest), so the
// statement and its 15 parameters stay the same size whatever the batch, and nothing is inlined.
const TYPES = ['uuid', 'uuid', 'uuid', 'text', 'text', 'text', 'int', 'text', 'text', 'bigint', 'bigint', 'int', 'bigint', 'text', 'timestamptz'] as const;
const INSERT = `with rows as (
    insert into "${T}" (${COLUMNS.map((c) => `"${c}"`).join(', ')})
    select * from unnest(${TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})
    returning "api_key_id")
  update "api_keys" k set "usage_count" = k."usage_count" + c.n
    from (select "api_key_id", count(*) as n from rows where "api_key_id" is not null group by "api_key_id") c
   where k."id" = c."api_key_id"`;
/** Rows kept while the database refuses them; past this the oldest are dropped (and logged). */
const MAX_PENDING = 100_000;

const values = (u: RequestUsage, at: Date): unknown[] => [
  u.organizationId,
  u.userId ?? null,
  u.apiKeyId ?? null,
  u.actionType,
  u.endpoint.slice(0, 200),
  u.method.slice(0, 10),
  u.status,
  u.ip.slice(0, 45),
  u.userAgent?.slice(0, 500) ?? null,
  u.bytesIn,
  u.bytesOut,
  Math.round(u.durationMs),
  u.fileSizeBytes ?? null,
  u.mediaType?.slice(0, 20) ?? null,
  at,
];

export interface UsageBuffer {
  /** Queues one request's row (with the time it was recorded); never waits for the database. */
  add(u: RequestUsage): void;
  /** Writes everything queued so far. */
  flush(): Promise<void>;
  /** Stops the timer and writes what is left: called once the server has stopped taking requests. */
  close(): Promise<void>;
}

/**
 * Request usage rows written in batches (one multi-row insert per `maxBatch` rows) every
 * `flushIntervalMs` and when a batch fills up, instead of one insert per request. A graceful
 * stop (close) loses nothing; a crash loses at most the rows of the last interval. When the
 * database refuses a batch the rows stay queued and go with the next flush.
 */
export function createUsageBuffer(opts: { orm: MikroORM; logger: Logger; flushIntervalMs: number; maxBatch: number }): UsageBuffer {
  const { orm, logger, maxBatch } = opts;
  let pending: unknown[][] = [];
  let running: Promise<void> | undefined;
  let lastError = 0;

  async function write(): Promise<void> {
    while (pending.length) {
      const batch = pending.splice(0, maxBatch);
      try {
        // One statement: the rows, and each API key's usage_count by as many (atomically, or neither).
        const pool = await orm.em.getConnection().getNativeClient();
        await pool.query(INSERT, COLUMNS.map((_, i) => batch.map((row) => row[i])));
      } catch (err) {
        pending = batch.concat(pending);
        if (Date.now() - lastError > 10_000) {
          lastError = Date.now();
          logger.error({ err, rows: pending.length }, 'could not record request usage; rows kept for the next flush');
        }
        return;
      }
    }
  }

  function flush(): Promise<void> {
    running ??= write().finally(() => (running = undefined));
    return running;
  }

  const timer = setInterval(() => void flush(), opts.flushIntervalMs);
  timer.unref();

  return {
    add(u) {
      pending.push(values(u, new Date()));
      if (pending.length > MAX_PENDING) {
        const dropped = pending.length - MAX_PENDING;
        pending = pending.slice(dropped);
        logger.error({ dropped }, 'request usage rows dropped: the database has refused them for too long');
      }
      if (pending.length >= maxBatch && !running) void flush();
    },
    async flush() {
      // A flush already under way may have started before the latest rows came in.
      await running;
      await flush();
    },
    async close() {
      clearInterval(timer);
      await running;
      await flush();
      if (pending.length) logger.error({ rows: pending.length }, 'request usage rows lost at shutdown: the database refused them');
    },
  };
}
