import { PassThrough } from 'node:stream';
import { NotFoundError } from '../../../lib/errors.js';
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

/**
 * Server-Sent Events for one upload, polled from Postgres so it works whichever API instance
 * receives the bytes: `upload_progress` whenever the count moves, then `upload_completed` (with
 * the media id) or `upload_failed`, and the stream ends. A multipart upload's id may be
 * subscribed to before its request arrives: the stream waits up to `waitMs` for it to appear.
 */
export async function uploadEvents(
  sessions: UploadSessions,
  organizationId: string,
  id: string,
  opts: { pollMs?: number; waitMs?: number; signal: AbortSignal },
): Promise<PassThrough> {
  const pollMs = opts.pollMs ?? 500;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  let session: UploadSessionRow | undefined;
  for (const deadline = Date.now() + (opts.waitMs ?? 30_000); !session; ) {
    try {
      session = await sessions.get(organizationId, id);
    } catch (err) {
      // Someone else's upload with this id: 404 at once. No upload yet: maybe soon (multipart).
      if (!(err instanceof NotFoundError) || (await sessions.find(id)) || Date.now() > deadline || opts.signal.aborted) throw err;
      await sleep(pollMs);
    }
  }
  const out = new PassThrough();
  void (async () => {
    let last = -1;
    let beat = Date.now();
    try {
      for (let s: UploadSessionRow = session; !opts.signal.aborted; s = await sessions.get(organizationId, id)) {
        if (s.bytesReceived !== last || s.status !== 'receiving') {
          last = s.bytesReceived;
          out.write(frame('upload_progress', progressOf(s)));
        } else if (Date.now() - beat > 15_000) {
          out.write(': keep-alive\n\n');
          beat = Date.now();
        }
        if (s.status === 'completed') {
          out.write(frame('upload_completed', { upload_id: s.id, media_id: s.mediaId }));
          break;
        }
        if (s.status === 'failed') {
          out.write(frame('upload_failed', { upload_id: s.id, error: { code: s.errorCode, message: s.errorMessage } }));
          break;
        }
        await sleep(pollMs);
      }
    } catch {
      out.write(frame('upload_failed', { upload_id: id, error: { code: 'NOT_FOUND', message: 'the upload is gone (expired or terminated)' } }));
    } finally {
      out.end();
    }
  })();
  return out;
}
