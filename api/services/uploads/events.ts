import { PassThrough } from 'node:stream';
import type { MikroORM } from '@mikro-orm/postgresql';
import { UploadSessionSchema } from '#entities/index.js';
import { NotFoundError } from '#lib/errors.js';
import type { UploadSessionRow, UploadSessions } from './sessions.js';

export interface UploadProgressEvent {
  upload_id: string;
  status: UploadSessionRow['status'];
  bytes_processed: number;
  total_bytes: number | null;
  fraction: number | null;
}

export const progressOf = (s: UploadSessionRow): UploadProgressEvent => ({
  upload_id: s.id,
  status: s.status,
  bytes_processed: s.bytesReceived,
  total_bytes: s.totalBytes ?? null,
  fraction: s.totalBytes ? Math.min(1, s.bytesReceived / s.totalBytes) : null,
});

const frame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
const KEEP_ALIVE_MS = 15_000;

interface Subscriber {
  organizationId: string;
  out: PassThrough;
  last: number;
  beat: number;
}

/**
 * Server-Sent Events for uploads, read from Postgres so they work whichever API instance receives
 * the bytes: `upload_progress` whenever the count moves, then `upload_completed` (with the media
 * id) or `upload_failed`, and the stream ends. However many streams are open, one query every
 * `pollMs` reads every followed upload. A multipart upload's id may be subscribed to before its
 * request arrives: `open` waits up to `waitMs` for it to appear.
 */
export function createUploadEventHub(orm: MikroORM, sessions: UploadSessions, opts: { pollMs?: number; waitMs?: number } = {}) {
  const pollMs = opts.pollMs ?? 500;
  const waitMs = opts.waitMs ?? 30_000;
  const watches = new Map<string, Set<Subscriber>>();
  /** Ids awaited by `open` (multipart uploads not started yet): told when their row appears. */
  const awaited = new Map<string, Set<() => void>>();
  let ticking = false;

  function send(id: string, sub: Subscriber, s: UploadSessionRow | undefined): boolean {
    if (!s || s.status === 'expired' || s.organization.id !== sub.organizationId) {
      sub.out.write(frame('upload_failed', { upload_id: id, error: { code: 'NOT_FOUND', message: 'the upload is gone (expired or terminated)' } }));
      return true;
    }
    if (s.bytesReceived !== sub.last || s.status !== 'receiving') {
      sub.last = s.bytesReceived;
      sub.out.write(frame('upload_progress', progressOf(s)));
      sub.beat = Date.now();
    } else if (Date.now() - sub.beat > KEEP_ALIVE_MS) {
      sub.out.write(': keep-alive\n\n');
      sub.beat = Date.now();
    }
    if (s.status === 'completed') sub.out.write(frame('upload_completed', { upload_id: s.id, media_id: s.mediaId }));
    else if (s.status === 'failed') sub.out.write(frame('upload_failed', { upload_id: s.id, error: { code: s.errorCode, message: s.errorMessage } }));
    else return false;
    return true;
  }

  function drop(id: string, sub: Subscriber): void {
    const subs = watches.get(id);
    if (subs?.delete(sub) && !subs.size) watches.delete(id);
    sub.out.end();
  }

  async function tick(): Promise<void> {
    const ids = [...new Set([...watches.keys(), ...awaited.keys()])];
    if (!ids.length) return;
    const rows = await orm.em.fork().find(UploadSessionSchema, { id: { $in: ids } });
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const id of awaited.keys()) if (byId.has(id)) for (const wake of awaited.get(id)!) wake();
    for (const [id, subs] of watches) for (const sub of [...subs]) if (send(id, sub, byId.get(id))) drop(id, sub);
  }

  const timer = setInterval(() => {
    if (ticking) return;
    ticking = true;
    tick()
      .catch(() => undefined)
      .finally(() => (ticking = false));
  }, pollMs);
  timer.unref();

  /** Resolves when a row with this id exists (or the deadline or abort passes). */
  function appeared(id: string, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const set = awaited.get(id) ?? new Set();
      awaited.set(id, set);
      const done = () => {
        clearTimeout(timeout);
        set.delete(done);
        if (!set.size) awaited.delete(id);
        resolve();
      };
      const timeout = setTimeout(done, waitMs);
      signal.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }

  return {
    async open(organizationId: string, id: string, signal: AbortSignal): Promise<PassThrough> {
      let session: UploadSessionRow;
      try {
        session = await sessions.get(organizationId, id);
      } catch (err) {
        // Someone else's upload with this id: 404 at once. No upload yet: maybe soon (multipart).
        if (!(err instanceof NotFoundError) || (await sessions.find(id)) || signal.aborted) throw err;
        await appeared(id, signal);
        session = await sessions.get(organizationId, id);
      }
      const out = new PassThrough();
      const sub: Subscriber = { organizationId, out, last: -1, beat: Date.now() };
      if (send(id, sub, session)) {
        out.end();
        return out;
      }
      const subs = watches.get(id) ?? new Set();
      watches.set(id, subs.add(sub));
      signal.addEventListener('abort', () => drop(id, sub), { once: true });
      out.once('close', () => drop(id, sub));
      return out;
    },
    close(): void {
      clearInterval(timer);
      for (const [id, subs] of watches) for (const sub of [...subs]) drop(id, sub);
    },
  };
}
export type UploadEventHub = ReturnType<typeof createUploadEventHub>;
