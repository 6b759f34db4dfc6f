import type { Readable, Transform } from 'node:stream';
import multer from '@koa/multer';
import { ValidationError } from '#lib/errors.js';
import { reply, type AppMiddleware, type Route } from '../handler.js';
import { toMediaFile } from '../mappers.js';
import { hasNul } from '../middleware/input-hygiene.js';
import type { Services } from '../services/index.js';
import type { MediaFileRow, UploadContext } from '../services/media-service.js';

export const uploadMedia = (s: Services, baseUrl: string): Route<'uploadMedia'> => ({
  // An upload's digest is known once it is stored: a repeat is compared afterwards, then discarded.
  before: [
    s.idempotency({
      operation: 'uploadMedia',
      fingerprintAfter: (ctx) => {
        const m = ctx.body as { checksum_sha256: string; original_filename: string };
        return `${m.checksum_sha256}\n${m.original_filename}`;
      },
      discard: (ctx) => s.mediaDeletion.discard(ctx.state.organizationId, (ctx.body as { id: string }).id),
    }),
  ],
  async handle(ctx) {
    const principal = ctx.state.principal!;
    // Refused when its Content-Length (a little over the file's size) would go past the storage quota.
    const limits = await s.quotas.forUpload(principal.organizationId, Number(ctx.get('content-length')) || 0);
    // With X-Upload-Id, progress is recorded for GET /api/v1/uploads/{id}/events.
    const uploadId = ctx.get('x-upload-id');
    const follow = uploadId ? await s.uploads.followMultipart(principal, uploadId, Number(ctx.get('content-length')) || undefined) : undefined;
    let media: MediaFileRow;
    try {
      media = await receiveFile(s, ctx, { userId: principal.userId, apiKeyId: principal.apiKeyId, ...limits }, follow?.meter);
    } catch (err) {
      await follow?.failed(err);
      throw err;
    }
    await follow?.done(media);
    ctx.set('Location', `${baseUrl}/api/v1/media/${media.id}`);
    reply(ctx, 'uploadMedia', 201, toMediaFile(media, baseUrl));
  },
});

export const getMedia = (s: Services, baseUrl: string): Route<'getMedia'> => ({
  async handle(ctx, { path }) {
    reply(ctx, 'getMedia', 200, toMediaFile(await s.media.getReadable(ctx.state.principal!, path.id), baseUrl));
  },
});

export const deleteMedia = (s: Services): Route<'deleteMedia'> => ({
  async handle(ctx, { path }) {
    await s.mediaDeletion.remove(ctx.state.organizationId, path.id);
    ctx.status = 204;
  },
});

export const downloadMedia = (s: Services): Route<'downloadMedia'> => ({
  async handle(ctx, { path }) {
    const media = await s.media.getReadable(ctx.state.principal!, path.id);
    const body = await s.media.open(media);
    ctx.attachment(media.originalFilename);
    ctx.type = media.mimeType;
    ctx.length = media.fileSizeBytes;
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.body = body;
  },
});

/**
 * Runs multer with a storage engine that streams the `file` part through the media service,
 * so the file is in storage and recorded by the time multer returns.
 */
async function receiveFile(s: Services, ctx: Parameters<AppMiddleware>[0], by: UploadContext, meter?: Transform): Promise<MediaFileRow> {
  return (await receiveMultipart(s, ctx, by, { meter })).media;
}

export interface ReceiveOptions {
  meter?: Transform;
  /** Sees the text fields that came before the file part, and may refuse the request unread. */
  beforeFile?: (fields: Record<string, unknown>) => void;
}

/** The `file` part stored as a media file, with the multipart body's text fields. */
export async function receiveMultipart(
  s: Services,
  ctx: Parameters<AppMiddleware>[0],
  by: UploadContext,
  opts: ReceiveOptions = {},
): Promise<{ media: MediaFileRow; fields: Record<string, unknown> }> {
  const { meter } = opts;
  let media: MediaFileRow | undefined;
  let fields: Record<string, unknown>;
  // multer 2 hands the engine a streaming file; @types/koa__multer still describes multer 1.
  const storage = {
    _handleFile(req: { body?: Record<string, unknown> }, file: { stream: Readable; originalname: string; fieldname: string }, cb: (err: unknown, info?: object) => void) {
      // Field names and filenames reach the database: a NUL byte in any of them is refused unread.
      const named = [file.fieldname, file.originalname, ...Object.keys(req.body ?? {}), ...Object.values(req.body ?? {}).filter((v) => typeof v === 'string')];
      if (named.some(hasNul)) {
        cb(new ValidationError('Request validation failed', { fields: [{ field: file.fieldname, location: 'body', message: 'field names and filenames must not contain NUL bytes' }] }));
        return;
      }
      try {
        opts.beforeFile?.({ ...(req.body ?? {}) });
      } catch (err) {
        cb(err);
        return;
      }
      s.media.upload(ctx.state.organizationId, meter ? file.stream.pipe(meter) : file.stream, file.originalname, by).then((m) => {
        media = m;
        cb(null, { size: m.fileSizeBytes });
      }, cb);
    },
    _removeFile(_req: unknown, _file: unknown, cb: (err: unknown) => void) {
      cb(null);
    },
  } as unknown as multer.StorageEngine;
  const upload = multer({ storage, limits: { files: 1, fields: 20, parts: 30, fieldSize: 64 * 1024 } }).single('file');
  try {
    await upload(ctx as never, async () => undefined);
    fields = { ...(((ctx.request as { body?: unknown }).body ?? {}) as Record<string, unknown>) };
  } catch (err) {
    // A file stored before a later part failed (a field over its limit) is not kept.
    if (media) await s.mediaDeletion.discard(ctx.state.organizationId, media.id).catch(() => undefined);
    throw asClientError(err);
  }
  if (!media) throw new ValidationError('A file is required in the multipart field "file"', { fields: [{ field: 'file', location: 'body', message: 'is required' }] });
  return { media, fields };
}

// Multer and busboy report malformed multipart bodies with their own errors.
function asClientError(err: unknown): unknown {
  const e = err as { name?: string; code?: string; field?: string; message?: string };
  if (e?.name === 'MulterError') {
    return new ValidationError(`Invalid multipart body: ${e.message}`, {
      fields: [{ field: e.field ?? 'file', location: 'body', message: e.message ?? e.code ?? 'invalid' }],
    });
  }
  if (/multipart|boundary|unexpected end of form|malformed/i.test(e?.message ?? '')) {
    return new ValidationError(`Invalid multipart body: ${e.message}`);
  }
  return err;
}
