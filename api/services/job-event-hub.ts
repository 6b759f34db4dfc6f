import { PassThrough } from 'node:stream';
import type { MikroORM } from '@mikro-orm/postgresql';
import { JOB_EVENTS_CHANNEL } from '#entities/job-event-notify.js';
import type { Logger } from '#lib/logger.js';
import { isTerminal } from '#workflows/job-status.js';
import { createPgListener } from './pg-listener.js';

const BATCH = 500;
const KEEP_ALIVE_MS = 15_000;
/** Queries the hub runs at once, whatever the number of streams: its share of the pool. */
const MAX_QUERIES = 2;

interface Subscriber {
  last: number;
  out: PassThrough;
  /** Epoch ms of the last write, for keep-alive comments. */
  wrote: number;
}

interface Watch {
  subscribers: Set<Subscriber>;
  /** The read under way, if any; `again` makes it read once more when it is done. */
  fetching?: Promise<void>;
  again: boolean;
}

interface EventRow {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

export interface JobEventHub {
  /**
   * The job's events after `afterId` as Server-Sent Events frames. Ends after a terminal status
   * event, at once when `terminal` and nothing is left to send, or when the job is gone.
   */
  subscribe(jobId: string, afterId: number, terminal: boolean, signal: AbortSignal): PassThrough;
  /** Open streams (for tests and metrics). */
  size(): number;
  close(): Promise<void>;
}

/**
 * Follows jobs for every open event stream of this API instance with a bounded number of pool
 * connections: a new event NOTIFYs (trigger on job_events), and one query per job reads what is
 * new for all of that job's streams. A sweep (one query for all watched jobs) catches what a
 * notification could not tell: a missed one, a job that ended or was deleted without an event. It
 * runs every `sweepMs` while notifications arrive and every `pollMs` while they do not.
 */
export function createJobEventHub(opts: { orm: MikroORM; databaseUrl: string; logger: Logger; pollMs?: number; sweepMs?: number }): JobEventHub {
  const { orm, logger } = opts;
  const pollMs = opts.pollMs ?? 500;
  const sweepMs = opts.sweepMs ?? 5000;
  const watches = new Map<string, Watch>();
  let streams = 0;
  let running = 0;
  const waiting: (() => void)[] = [];

  /** At most MAX_QUERIES at once: the rest wait their turn here, not in the pool. */
  async function query<T>(sql: string, params: unknown[]): Promise<T[]> {
    // A finished query hands its slot straight to the next in line, so there are never more.
    if (running >= MAX_QUERIES) await new Promise<void>((r) => waiting.push(r));
    else running += 1;
    try {
      return await orm.em.fork().execute<T[]>(sql, params);
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    }
  }

  function end(jobId: string, sub: Subscriber): void {
    const watch = watches.get(jobId);
    if (watch?.subscribers.delete(sub)) {
      streams -= 1;
      if (!watch.subscribers.size) watches.delete(jobId);
    }
    sub.out.end();
  }

  function deliver(jobId: string, watch: Watch, rows: EventRow[]): void {
    for (const sub of [...watch.subscribers]) {
      let ended = false;
      let wrote = false;
      for (const row of rows) {
        if (Number(row.id) <= sub.last) continue;
        sub.last = Number(row.id);
        sub.out.write(`id: ${row.id}\nevent: ${row.type}\ndata: ${JSON.stringify(row.data)}\n\n`);
        ended = row.type === 'status' && isTerminal(String(row.data.status));
        wrote = true;
      }
      if (wrote) sub.wrote = Date.now();
      if (ended && rows.length < BATCH) end(jobId, sub);
    }
  }

  /** Reads what is new for the job's streams; a wake during a read makes that read go again. */
  function wake(jobId: string): Promise<void> {
    const watch = watches.get(jobId);
    if (!watch) return Promise.resolve();
    if (watch.fetching) {
      watch.again = true;
      return watch.fetching;
    }
    const read = async () => {
      try {
        do {
          watch.again = false;
          if (!watch.subscribers.size) break;
          const from = Math.min(...[...watch.subscribers].map((s) => s.last));
          const rows = await query<EventRow>(`select "id", "type", "data" from "job_events" where "job_id" = ? and "id" > ? order by "id" limit ${BATCH}`, [jobId, from]);
          deliver(jobId, watch, rows);
          if (rows.length === BATCH) watch.again = true;
        } while (watch.again);
      } catch (err) {
        logger.warn({ err, jobId }, 'job event stream read failed');
      } finally {
        watch.fetching = undefined;
      }
    };
    return (watch.fetching = read());
  }

  /** One query for every watched job: wakes those with unread events, ends those that are over. */
  async function sweep(): Promise<void> {
    const ids = [...watches.keys()];
    if (!ids.length) return;
    const rows = await query<{ id: string; status: string; last_event: string | null }>(
      `select j."id", j."status", (select max(e."id") from "job_events" e where e."job_id" = j."id") as "last_event"
         from "processing_jobs" j where j."id" in (${ids.map(() => '?').join(', ')})`,
      // One placeholder per id: the ORM inlines an array parameter as a list, which `any(?)` cannot take.
      ids,
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    const now = Date.now();
    for (const id of ids) {
      const watch = watches.get(id);
      if (!watch) continue;
      const row = byId.get(id);
      const lastEvent = Number(row?.last_event ?? 0);
      for (const sub of [...watch.subscribers]) {
        if (!row || (isTerminal(row.status) && sub.last >= lastEvent && !watch.fetching)) end(id, sub);
        else if (now - sub.wrote > KEEP_ALIVE_MS) {
          sub.out.write(': keep-alive\n\n');
          sub.wrote = now;
        }
      }
      if (watch.subscribers.size && [...watch.subscribers].some((s) => s.last < lastEvent)) void wake(id);
    }
  }

  const listener = createPgListener({
    databaseUrl: opts.databaseUrl,
    channel: JOB_EVENTS_CHANNEL,
    logger,
    degraded: `job event streams are polled every ${pollMs} ms`,
    onPayload: (jobId) => void wake(jobId),
  });

  let sweeping = false;
  let lastSweep = 0;
  const timer = setInterval(() => {
    if (sweeping || !watches.size) return;
    if (listener.listening() && Date.now() - lastSweep < sweepMs) return;
    sweeping = true;
    lastSweep = Date.now();
    sweep()
      .catch((err) => logger.warn({ err }, 'job event sweep failed'))
      .finally(() => (sweeping = false));
  }, pollMs);
  timer.unref();

  return {
    subscribe(jobId, afterId, terminal, signal) {
      const out = new PassThrough();
      const sub: Subscriber = { last: afterId, out, wrote: Date.now() };
      let watch = watches.get(jobId);
      if (!watch) watches.set(jobId, (watch = { subscribers: new Set(), again: false }));
      watch.subscribers.add(sub);
      streams += 1;
      const stop = () => end(jobId, sub);
      signal.addEventListener('abort', stop, { once: true });
      out.once('close', stop);
      // The backlog first; a job already over ends its stream once the backlog is sent.
      void wake(jobId).then(() => {
        if (terminal) end(jobId, sub);
      });
      return out;
    },
    size: () => streams,
    async close() {
      clearInterval(timer);
      for (const [id, watch] of watches) for (const sub of [...watch.subscribers]) end(id, sub);
      await listener.close();
    },
  };
}
