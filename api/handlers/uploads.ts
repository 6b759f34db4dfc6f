import type { IncomingMessage } from 'node:http';
import { providerKeysOf } from './provider-key-headers.js';
import type { components } from '../generated/openapi.js';
import { AppError, type ErrorCode } from '#lib/errors.js';
import { reply, type AppContext, type Route } from '../handler.js';
import { toJob, toMediaFile } from '../mappers.js';
import { jsonBody } from '../middleware/body.js';
import type { Services } from '../services/index.js';
import type { UploadSessionRow } from '../services/uploads/sessions.js';
import type { TusReply } from '../services/uploads/tus.js';

type Schemas = components['schemas'];
type Visible = Exclude<UploadSessionRow['status'], 'expired'>;

// ---- tus: each operation hands the request to the tus server once the guard has let it through.

const TUS_CODES: Record<number, ErrorCode> = { 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 409: 'CONFLICT', 410: 'NOT_FOUND', 413: 'FILE_TOO_LARGE' };

/** Sends the tus server's reply; its errors keep their status and get the common error body. */
function sendTus(ctx: AppContext, r: TusReply): void {
  r.headers.forEach((v, k) => {
    if (k !== 'content-length' && k !== 'content-type') ctx.set(k, v);
  });
  if (r.status >= 400) {
    let parsed: { error?: { code?: ErrorCode; message?: string; details?: Record<string, unknown> } } = {};
    try {
      parsed = JSON.parse(r.body) as typeof parsed;
    } catch {
      // A plain-text tus error ("Upload-Offset conflict").
    }
    const code = parsed.error?.code ?? TUS_CODES[r.status] ?? (r.status >= 500 ? 'INTERNAL_ERROR' : 'VALIDATION_ERROR');
    throw new AppError(r.status, code, parsed.error?.message ?? (r.body.trim() || 'tus request refused'), parsed.error?.details ?? {});
  }
  ctx.status = r.status;
  ctx.body = r.body;
}

const hasBody = (ctx: AppContext) => ctx.get('transfer-encoding') !== '' || Number(ctx.get('content-length') || 0) > 0;

function tusRoute<K extends 'uploadsOptions' | 'uploadsCreate' | 'uploadsHead' | 'uploadsPatch' | 'uploadsDelete'>(s: Services): Route<K> {
  return {
    async handle(ctx, input) {
      ctx.set('Tus-Resumable', '1.0.0');
      const uploadId = (input.path as { id?: string }).id?.toLowerCase();
      // Another organization's upload (or none) is 404 before the tus server sees the request.
      if (uploadId) await s.uploads.sessions.get(ctx.state.organizationId, uploadId, 'tus');
      const r = await s.uploads.tus.handle({
        method: ctx.method,
        headers: ctx.headers,
        body: hasBody(ctx) ? (ctx.req as IncomingMessage) : undefined,
        principal: ctx.state.principal,
        uploadId,
      });
      sendTus(ctx, r);
    },
  };
}

export const uploadsOptions = (s: Services) => tusRoute<'uploadsOptions'>(s);
export const uploadsCreate = (s: Services) => tusRoute<'uploadsCreate'>(s);
export const uploadsHead = (s: Services) => tusRoute<'uploadsHead'>(s);
export const uploadsPatch = (s: Services) => tusRoute<'uploadsPatch'>(s);
export const uploadsDelete = (s: Services) => tusRoute<'uploadsDelete'>(s);

// ---- any upload: state and progress events.

const errorOf = (u: UploadSessionRow) => (u.status === 'failed' ? { error: { code: u.errorCode ?? 'INTERNAL_ERROR', message: u.errorMessage ?? '' } } : {});

export function toUpload(u: UploadSessionRow): Schemas['Upload'] {
  return {
    id: u.id,
    kind: u.kind,
    status: u.status as Visible,
    filename: u.filename,
    bytes_received: u.bytesReceived,
    total_bytes: u.totalBytes ?? null,
    fraction: u.totalBytes ? Math.min(1, u.bytesReceived / u.totalBytes) : null,
    media_id: u.mediaId ?? null,
    ...errorOf(u),
    expires_at: u.expiresAt.toISOString(),
    created_at: u.createdAt.toISOString(),
  };
}

export const getUpload = (s: Services): Route<'getUpload'> => ({
  async handle(ctx, { path }) {
    reply(ctx, 'getUpload', 200, toUpload(await s.uploads.sessions.get(ctx.state.organizationId, path.id)));
  },
});

export const streamUploadEvents = (s: Services): Route<'streamUploadEvents'> => ({
  async handle(ctx, { path }) {
    const release = s.streams.take(ctx.state.organizationId);
    const gone = new AbortController();
    ctx.req.once('close', () => gone.abort());
    // The response closes when the stream ends and when the client goes away.
    ctx.res.once('close', release);
    let stream;
    try {
      stream = await s.uploads.events(ctx.state.organizationId, path.id, gone.signal);
    } catch (err) {
      release();
      throw err;
    }
    ctx.req.socket.setTimeout(0);
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('X-Accel-Buffering', 'no');
    ctx.type = 'text/event-stream';
    ctx.status = 200;
    ctx.body = stream;
  },
});

// ---- chunked uploads.

function toChunkedUpload(u: UploadSessionRow, received: number[], baseUrl: string): Schemas['ChunkedUpload'] {
  const have = new Set(received);
  return {
    id: u.id,
    status: u.status as Visible,
    filename: u.filename,
    file_size: u.totalBytes!,
    chunk_size: u.chunkSize!,
    total_chunks: u.totalChunks!,
    received_chunks: received,
    missing_chunks: u.status === 'receiving' ? [...Array(u.totalChunks!).keys()].filter((n) => !have.has(n)) : [],
    bytes_received: u.bytesReceived,
    fraction: Math.min(1, u.bytesReceived / u.totalBytes!),
    sha256: u.sha256 ?? null,
    upload_url: `${baseUrl}/api/v1/chunked-uploads/${u.id}/chunks/{n}`,
    media_id: u.mediaId ?? null,
    ...errorOf(u),
    expires_at: u.expiresAt.toISOString(),
    created_at: u.createdAt.toISOString(),
  };
}

export const createChunkedUpload = (s: Services, baseUrl: string, bodyLimitKb: number): Route<'createChunkedUpload'> => ({
  before: [jsonBody(bodyLimitKb)],
  async handle(ctx, { body }) {
    const session = await s.uploads.chunked.init(ctx.state.principal!, {
      filename: body.filename,
      fileSize: body.file_size,
      chunkSize: body.chunk_size,
      totalChunks: body.total_chunks,
      sha256: body.sha256,
    });
    ctx.set('Location', `${baseUrl}/api/v1/chunked-uploads/${session.id}`);
    reply(ctx, 'createChunkedUpload', 201, toChunkedUpload(session, [], baseUrl));
  },
});

export const getChunkedUpload = (s: Services, baseUrl: string): Route<'getChunkedUpload'> => ({
  async handle(ctx, { path }) {
    const { session, received } = await s.uploads.chunked.status(ctx.state.organizationId, path.id);
    reply(ctx, 'getChunkedUpload', 200, toChunkedUpload(session, received, baseUrl));
  },
});

export const deleteChunkedUpload = (s: Services): Route<'deleteChunkedUpload'> => ({
  async handle(ctx, { path }) {
    await s.uploads.chunked.abort(ctx.state.organizationId, path.id);
    ctx.status = 204;
  },
});

export const putChunk = (s: Services): Route<'putChunk'> => ({
  async handle(ctx, { path }) {
    const length = ctx.get('content-length');
    const r = await s.uploads.chunked.putChunk(ctx.state.organizationId, path.id, path.n, ctx.req, ctx.get('x-chunk-sha256'), length === '' ? undefined : Number(length));
    reply(ctx, 'putChunk', 200, {
      chunk_number: r.received,
      received_size: r.size,
      checksum: r.sha256,
      duplicate: r.duplicate,
      bytes_received: r.bytesReceived,
      progress: Math.min(1, r.bytesReceived / r.session.totalBytes!),
    });
  },
});

export const finalizeChunkedUpload = (s: Services, baseUrl: string, bodyLimitKb: number): Route<'finalizeChunkedUpload'> => ({
  before: [jsonBody(bodyLimitKb)],
  async handle(ctx, { path, body }) {
    const r = await s.uploads.chunked.finalize(ctx.state.principal!, path.id, {
      chunkChecksums: body.chunk_checksums,
      process: body.process ? { actionId: body.process.action_id, parameters: body.process.parameters ?? {} } : undefined,
      providerKeys: providerKeysOf(ctx),
    });
    if (r.job) {
      ctx.state.jobId = r.job.id;
      ctx.state.workflowId = r.job.workflowId ?? undefined;
    }
    reply(ctx, 'finalizeChunkedUpload', 201, { upload_id: r.session.id, media: toMediaFile(r.media, baseUrl), ...(r.job ? { job: toJob(r.job, baseUrl) } : {}) });
  },
});
