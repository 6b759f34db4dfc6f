import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { S3Store } from '@tus/s3-store';
import { Server, type ServerOptions } from '@tus/server';
import { AppError, ValidationError } from '#lib/errors.js';
import { assertNoNul } from '../../middleware/input-hygiene.js';
import type { Principal } from '../../auth/principal.js';
import type { ApiDeps } from '../../deps.js';
import { progressMeter } from './progress.js';
import type { UploadSessions } from './sessions.js';
import { spool, SpoolLimitError } from './spool.js';
import { s3ClientConfig } from '#lib/s3.js';
import { tusKey, UPLOADS_PREFIX, type TempStore } from './temp-store.js';

export const TUS_PATH = '/api/v1/uploads';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Upload-Checksum algorithms (tus checksum extension); @tus/server has none, so they are checked here. */
const CHECKSUM_ALGORITHMS: Record<string, string> = { sha1: 'sha1', sha256: 'sha256', md5: 'md5' };
const idOf = (key: string) => key.slice(key.lastIndexOf('/') + 1);

/** A tus request, with what the API knows about its caller. */
export interface TusCall {
  /** The operation's method: the only one @tus/server acts on (no method override). */
  method: string;
  headers: Record<string, string | string[] | undefined>;
  body?: Readable;
  principal?: Principal;
  /** The upload id from the path, already checked to be the caller's; absent for OPTIONS and creation. */
  uploadId?: string;
}

/**
 * Request headers never handed to @tus/server: hop-by-hop ones, the checksum (verified here),
 * the method override (the operation's method and permission are the ones checked), and the
 * forwarded host/proto (Location is built from API_BASE_URL).
 */
const DROPPED_HEADERS = new Set(['host', 'connection', 'transfer-encoding', 'upload-checksum', 'x-http-method-override', 'forwarded', 'x-forwarded-host', 'x-forwarded-proto']);

/**
 * The only URL @tus/server sees: rebuilt from the checked id, never from the client's URL.
 * @tus/server takes the upload id from the last `/` segment of whatever URL it is given, so any
 * query string, extra segment or encoded slash of the original request must not reach it.
 */
export function tusUrl(uploadId: string | undefined): string {
  if (uploadId === undefined) return `http://api.internal${TUS_PATH}`;
  if (!UUID.test(uploadId)) throw new AppError(404, 'NOT_FOUND', 'Upload not found');
  return `http://api.internal${TUS_PATH}/${uploadId.toLowerCase()}`;
}

export interface TusReply {
  status: number;
  headers: Headers;
  body: string;
}

/** Errors of hooks, in the shape @tus/server sends on (status_code + body): our error format. */
function tusError(err: unknown): { status_code: number; body: string } {
  const e = err instanceof AppError && err.expose ? err : new AppError(500, 'INTERNAL_ERROR', 'Internal server error');
  return { status_code: e.status, body: JSON.stringify({ error: { code: e.code, message: e.message, details: e.details } }) };
}

/** The S3 store with a way to drop an upload's objects once its content became a media file. */
class UploadsS3Store extends S3Store {
  constructor(
    options: ConstructorParameters<typeof S3Store>[0],
    private readonly temp: TempStore,
  ) {
    super(options);
    // Upload-Checksum is verified by the API before the body reaches the store (see handle()).
    this.extensions.push('checksum');
  }
  async discard(id: string): Promise<void> {
    await this.temp.remove([id, this.infoKey(id), this.partKey(id, true)]);
    const { multipart } = await this.temp.list(id);
    await Promise.all(multipart.filter((m) => m.key === id).map((m) => this.temp.abort(m.key, m.uploadId)));
    await this.clearCache(id);
  }
}

/**
 * The tus server (core, creation, termination, checksum, expiration) storing parts straight into
 * S3 under `uploads/tus/` (spooled to disk one part at a time, so memory stays flat). A finished
 * upload is streamed through the media path into a media file; its tus objects are then removed.
 */
export function createTusUploads(deps: ApiDeps, sessions: UploadSessions, temp: TempStore) {
  const { config } = deps;
  const callers = new WeakMap<Request, { principal: Principal; maxBytes: number }>();
  const store = new UploadsS3Store(
    {
      partSize: config.s3.partSizeBytes,
      // Expiry is enforced by cleanUpExpiredUploads; this makes a PATCH on an expired upload a 410.
      expirationPeriodInMilliseconds: config.uploads.expiryMs,
      useTags: false,
      // Each part in flight is held in memory: two keep throughput with bounded growth.
      maxConcurrentPartUploads: 2,
      s3ClientConfig: { ...s3ClientConfig(config.s3), bucket: config.s3.bucket },
    },
    temp,
  );
  const options: Omit<ServerOptions, 'locker'> & { datastore: S3Store } = {
    path: TUS_PATH,
    datastore: store,
    maxSize: (req) => callers.get(req as unknown as Request)?.maxBytes ?? (config.uploads.maxBytes || Math.max(config.media.image.maxFileSizeBytes, config.media.audio.maxFileSizeBytes)),
    namingFunction: () => tusKey(randomUUID()),
    getFileIdFromRequest: (_req, last) => (last && UUID.test(last) ? tusKey(last.toLowerCase()) : undefined),
    generateUrl: (_req, { id }) => `${config.http.publicUrl}${TUS_PATH}/${idOf(id)}`,
    exposedHeaders: ['Mediaflow-Media-Id', 'X-Request-Id'],
    async onUploadCreate(req, upload) {
      const caller = callers.get(req as unknown as Request);
      if (!caller) throw tusError(new AppError(401, 'UNAUTHORIZED', 'Credentials required'));
      const meta = upload.metadata ?? {};
      try {
        // Nothing can be read from an empty file (no type, no content): refused before anything is stored.
        if (upload.size === 0) {
          throw new ValidationError('An empty file cannot be uploaded', { fields: [{ field: 'Upload-Length', location: 'header', message: 'must be at least 1' }] });
        }
        // Upload-Metadata is base64: decoded, it may hold anything, and its filename reaches the database.
        for (const [k, v] of Object.entries(meta)) {
          assertNoNul(k, 'header', 'Upload-Metadata');
          if (typeof v === 'string') assertNoNul(v, 'header', `Upload-Metadata.${k}`);
        }
        await sessions.create(caller.principal, { id: idOf(upload.id), kind: 'tus', filename: meta.filename ?? meta.name ?? 'upload', totalBytes: upload.size ?? null });
      } catch (err) {
        throw tusError(err);
      }
      // The owner is recorded server-side; whatever the client put under these names is replaced.
      return { metadata: { ...meta, organization_id: caller.principal.organizationId, user_id: caller.principal.userId ?? null } };
    },
    async onUploadFinish(_req, upload) {
      const session = await sessions.find(idOf(upload.id));
      try {
        if (!session || session.organization.id !== upload.metadata?.organization_id) throw new AppError(404, 'NOT_FOUND', 'Upload not found');
        // A deferred length that ended at 0 bytes: nothing was stored to read.
        if (!upload.size) throw new ValidationError('An empty file cannot be uploaded', { fields: [{ field: 'Upload-Length', location: 'header', message: 'must be at least 1' }] });
        await sessions.claim(session);
        const media = await sessions.toMedia(session, await store.read(upload.id));
        return { headers: { 'Mediaflow-Media-Id': media.id } };
      } catch (err) {
        throw tusError(err);
      } finally {
        await store.discard(upload.id).catch(() => undefined);
      }
    },
  };
  const server = new Server(options);

  return {
    store,
    /** Runs one tus request; the caller has authenticated it and checked the upload is theirs. */
    async handle(call: TusCall): Promise<TusReply> {
      const url = tusUrl(call.uploadId);
      let body: Readable | undefined = call.body;
      let cleanup = async () => undefined as void;
      const extra = new Headers();
      if (call.method === 'PATCH' && body && call.uploadId) {
        const id = call.uploadId;
        const offset = Number(call.headers['upload-offset'] ?? 0);
        const meter = progressMeter((bytes) => sessions.progress(id, bytes), Number.isFinite(offset) ? offset : 0);
        body = body.pipe(meter);
        const checksum = call.headers['upload-checksum'];
        if (typeof checksum === 'string') {
          const verified = await verifyChecksum(body, checksum, await sessions.maxBytes(call.principal!.organizationId));
          if ('reply' in verified) return verified.reply;
          body = createReadStream(verified.path);
          cleanup = verified.remove;
        }
      }
      const headers = new Headers();
      for (const [k, v] of Object.entries(call.headers)) {
        if (v === undefined || DROPPED_HEADERS.has(k.toLowerCase())) continue;
        headers.set(k, Array.isArray(v) ? v.join(', ') : v);
      }
      const request = new Request(url, {
        method: call.method,
        headers,
        body: body && call.method !== 'HEAD' ? (Readable.toWeb(body) as ReadableStream) : undefined,
        duplex: 'half',
      } as RequestInit);
      // Only requests that add bytes check the organization's limits (and storage quota).
      if (call.principal && (call.method === 'POST' || call.method === 'PATCH')) {
        callers.set(request, { principal: call.principal, maxBytes: await sessions.maxBytes(call.principal.organizationId) });
      }
      try {
        const res = await server.handleWeb(request);
        res.headers.forEach((v, k) => extra.set(k, v));
        if (call.method === 'OPTIONS') extra.set('Tus-Checksum-Algorithm', Object.keys(CHECKSUM_ALGORITHMS).join(','));
        if (call.method === 'DELETE' && res.status === 204 && call.uploadId) {
          await store.discard(tusKey(call.uploadId)).catch(() => undefined);
          await sessions.remove(call.uploadId);
        }
        return { status: res.status, headers: extra, body: await res.text() };
      } finally {
        await cleanup();
      }
    },
  };
}
export type TusUploads = ReturnType<typeof createTusUploads>;

/**
 * tus checksum extension: the PATCH body is spooled to disk while hashed, and only a matching
 * body is handed to the store (a mismatch is 460 and nothing is written).
 */
async function verifyChecksum(body: Readable, header: string, maxBytes: number): Promise<{ path: string; remove: () => Promise<void> } | { reply: TusReply }> {
  const refuse = (status: number, code: string, message: string) => ({
    reply: { status, headers: new Headers({ 'Tus-Resumable': '1.0.0' }), body: JSON.stringify({ error: { code, message, details: {} } }) },
  });
  const [name, expected] = header.trim().split(/\s+/);
  const algorithm = CHECKSUM_ALGORITHMS[name?.toLowerCase() ?? ''];
  if (!algorithm || !expected) {
    body.resume();
    return refuse(400, 'VALIDATION_ERROR', `Upload-Checksum must be "<algorithm> <base64 digest>" with algorithm one of ${Object.keys(CHECKSUM_ALGORITHMS).join(', ')}`);
  }
  let spooled;
  try {
    spooled = await spool(body, [algorithm], maxBytes);
  } catch (err) {
    if (err instanceof SpoolLimitError) return refuse(413, 'FILE_TOO_LARGE', 'Maximum size exceeded');
    throw err;
  }
  if (spooled.digests[algorithm]!.toString('base64') !== expected) {
    await spooled.remove();
    return refuse(460, 'VALIDATION_ERROR', 'Checksum mismatch: the body does not match Upload-Checksum; nothing was stored');
  }
  return spooled;
}

export { UPLOADS_PREFIX };
