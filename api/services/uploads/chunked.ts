import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { UploadChunkSchema } from '#entities/index.js';
import { AppError, ConflictError, InvalidActionError, RateLimitedError, ValidationError } from '#lib/errors.js';
import type { Principal } from '../../auth/principal.js';
import type { ApiDeps } from '../../deps.js';
import type { ProviderKeys } from '#workflows/types.js';
import type { JobService, SubmittedJob } from '../job-service.js';
import type { MediaFileRow } from '../media-service.js';
import type { QuotaService } from '../quota-service.js';
import { progressMeter } from './progress.js';
import type { UploadSessionRow, UploadSessions } from './sessions.js';
import { spool, SpoolLimitError } from './spool.js';
import { chunkedKey, type TempStore } from './temp-store.js';

const MIB = 1024 * 1024;
/** S3 refuses multipart parts below 5 MiB except the last: every chunk but the last is one part. */
export const MIN_CHUNK_BYTES = 5 * MIB;
const MAX_CHUNKS = 10_000;

export interface InitChunked {
  filename: string;
  fileSize: number;
  chunkSize: number;
  totalChunks?: number;
  sha256?: string;
}

export interface FinalizeChunked {
  chunkChecksums: string[];
  process?: { actionId: string; parameters: Record<string, unknown> };
  /** The request's own AI provider keys, for the job only (never stored). */
  providerKeys?: ProviderKeys;
}

const field = (name: string, message: string) => ({ fields: [{ field: name, location: 'body', message }] });

/**
 * The chunked upload API: chunks (numbered from 0) arrive in any order, each verified against its
 * SHA-256 before it becomes part `n + 1` of an S3 multipart upload; finalize checks every chunk's
 * checksum, has S3 assemble the parts, and streams the result through the media path.
 */
export function createChunkedUploads(deps: ApiDeps, sessions: UploadSessions, temp: TempStore, jobs: JobService, quotas: QuotaService) {
  const { orm, actions, config } = deps;
  // Each chunk is spooled to disk to be verified before it is stored: this bounds the disk per request.
  const maxChunkBytes = config.resources.chunks.maxBytes;
  const inFlight = createInFlight(config.resources.chunks.maxInFlightPerUpload);
  const expectedSize = (s: UploadSessionRow, n: number) => (n < s.totalChunks! - 1 ? s.chunkSize! : s.totalBytes! - s.chunkSize! * (s.totalChunks! - 1));
  const receivedBytes = async (id: string) => {
    const [row] = await orm.em.fork().execute<{ total: string }[]>(`select coalesce(sum(size_bytes), 0) as total from upload_chunks where session_id = ? and etag is not null`, [id]);
    return Number(row?.total ?? 0);
  };

  async function receiving(organizationId: string, id: string): Promise<UploadSessionRow> {
    const s = await sessions.get(organizationId, id, 'chunked');
    if (s.status !== 'receiving') throw new ConflictError(`This upload is ${s.status}; it takes no more chunks`, { status: s.status, media_id: s.mediaId });
    return s;
  }

  /** Spools chunk `n`, verifies it, and stores it as its multipart part. */
  async function receiveChunk(
    session: UploadSessionRow,
    n: number,
    body: Readable,
    declared: string,
    expected: number,
    sizeError: (got: number) => ValidationError,
    superseded: AbortSignal,
  ) {
    const id = session.id;
    const start = await receivedBytes(id);
    const meter = progressMeter((bytes) => sessions.progress(id, bytes), start);
    // pipe() passes on neither errors nor an aborted request: without this, a dropped connection
    // would leave the spool (and its in-flight slot) waiting for ever.
    body.once('error', (err) => meter.destroy(err));
    body.once('close', () => body.readableEnded || meter.destroy(new Error('the request was aborted')));
    superseded.addEventListener('abort', () => meter.destroy(new ConflictError(`Chunk ${n} was sent again; this request was superseded`, { chunk: n })), { once: true });
    let file;
    try {
      file = await spool(body.pipe(meter), ['sha256'], expected);
    } catch (err) {
      await meter.flushed();
      await sessions.progress(id, await receivedBytes(id));
      if (err instanceof SpoolLimitError) throw sizeError(expected + 1);
      throw err;
    }
    try {
      if (file.size !== expected) throw sizeError(file.size);
      const actual = file.digests.sha256!.toString('hex');
      if (actual !== declared) {
        throw new ValidationError(`Chunk ${n} does not match its checksum`, { chunk: n, expected_sha256: declared, actual_sha256: actual });
      }
      const em = orm.em.fork();
      const claimed = await em.execute<{ number: number }[]>(
        `insert into upload_chunks (session_id, number, size_bytes, sha256) values (?, ?, ?, ?) on conflict do nothing returning number`,
        [id, n, file.size, actual],
      );
      if (!claimed.length) {
        // Another instance stored it meanwhile.
        const other = await em.findOneOrFail(UploadChunkSchema, { session: id, number: n });
        if (other.sha256 !== actual) throw new ConflictError(`Chunk ${n} was already received with other content`, { chunk: n, sha256: other.sha256 });
        await meter.flushed();
        return { session, size: file.size, sha256: actual, received: n, bytesReceived: await receivedBytes(id), duplicate: true };
      }
      try {
        const etag = await temp.uploadPart(session.storageKey!, session.multipartUploadId!, n + 1, createReadStream(file.path), file.size);
        await em.nativeUpdate(UploadChunkSchema, { session: id, number: n }, { etag });
      } catch (err) {
        await em.nativeDelete(UploadChunkSchema, { session: id, number: n });
        throw err;
      }
      await meter.flushed();
      const bytesReceived = await receivedBytes(id);
      await sessions.progress(id, bytesReceived);
      return { session, size: file.size, sha256: actual, received: n, bytesReceived, duplicate: false };
    } finally {
      await file.remove();
      // The meter counted this request's bytes; what counts is what was stored.
      await meter.flushed();
      await sessions.progress(id, await receivedBytes(id));
    }
  }

  return {
    async init(principal: Principal, req: InitChunked): Promise<UploadSessionRow> {
      const maxBytes = await sessions.maxBytes(principal.organizationId);
      if (req.fileSize > maxBytes) {
        throw new AppError(413, 'FILE_TOO_LARGE', `File exceeds the maximum allowed size (${Math.round(maxBytes / MIB)} MB)`, { field: 'file_size', max_size_bytes: maxBytes });
      }
      const totalChunks = Math.ceil(req.fileSize / req.chunkSize);
      if (totalChunks > 1 && req.chunkSize < MIN_CHUNK_BYTES) throw new ValidationError('Invalid chunk size', field('chunk_size', `must be at least ${MIN_CHUNK_BYTES} bytes unless the file is one chunk`));
      // What one request spools is its chunk: chunk_size, or the whole file when it is one chunk.
      if (Math.min(req.chunkSize, req.fileSize) > maxChunkBytes) {
        throw new ValidationError('Invalid chunk size', field('chunk_size', `must be at most ${maxChunkBytes} bytes (send a larger file in several chunks)`));
      }
      if (totalChunks > MAX_CHUNKS) throw new ValidationError('Too many chunks', field('chunk_size', `the file must fit in ${MAX_CHUNKS} chunks`));
      if (req.totalChunks !== undefined && req.totalChunks !== totalChunks) {
        throw new ValidationError('total_chunks does not match file_size and chunk_size', field('total_chunks', `must be ${totalChunks}`));
      }
      const id = randomUUID();
      const key = chunkedKey(id);
      const uploadId = await temp.createMultipart(key);
      try {
        return await sessions.create(principal, {
          id,
          kind: 'chunked',
          filename: req.filename,
          totalBytes: req.fileSize,
          chunkSize: req.chunkSize,
          totalChunks,
          sha256: req.sha256?.toLowerCase(),
          storageKey: key,
          multipartUploadId: uploadId,
        });
      } catch (err) {
        await temp.abort(key, uploadId).catch(() => undefined);
        throw err;
      }
    },

    async status(organizationId: string, id: string): Promise<{ session: UploadSessionRow; received: number[] }> {
      const session = await sessions.get(organizationId, id, 'chunked');
      const chunks = await orm.em.fork().find(UploadChunkSchema, { session: id, etag: { $ne: null } }, { orderBy: { number: 'asc' } });
      return { session, received: chunks.map((c) => c.number) };
    },

    /**
     * Stores chunk `n`. The same chunk again with the same content is a no-op (200); with other
     * content, a conflict. Everything that can be refused from the headers (ownership, range,
     * length, a duplicate or conflicting checksum, too many chunks in flight) is refused before a
     * byte of the body is read; nothing reaches storage unless size and checksum match.
     */
    async putChunk(
      organizationId: string,
      id: string,
      n: number,
      body: Readable,
      sha256: string,
      contentLength: number | undefined,
    ): Promise<{ session: UploadSessionRow; size: number; sha256: string; received: number; bytesReceived: number; duplicate: boolean }> {
      const session = await receiving(organizationId, id);
      if (n >= session.totalChunks!) {
        throw new ValidationError(`Chunk ${n} is out of range`, { fields: [{ field: 'n', location: 'path', message: `must be between 0 and ${session.totalChunks! - 1}` }], total_chunks: session.totalChunks });
      }
      const expected = expectedSize(session, n);
      const sizeError = (got: number) => new ValidationError(`Chunk ${n} must be ${expected} bytes (got ${got})`, { chunk: n, expected_size: expected, size: got });
      if (contentLength !== undefined && contentLength !== expected) throw sizeError(contentLength);
      const declared = sha256.toLowerCase();
      const existing = await orm.em.fork().findOne(UploadChunkSchema, { session: id, number: n });
      if (existing) {
        if (existing.sha256 !== declared) throw new ConflictError(`Chunk ${n} was already received with other content`, { chunk: n, sha256: existing.sha256 });
        if (!existing.etag) throw new ConflictError(`Chunk ${n} is being stored by another request`, { chunk: n });
        return { session, size: existing.sizeBytes, sha256: declared, received: n, bytesReceived: await receivedBytes(id), duplicate: true };
      }
      // A resend of a chunk still being received supersedes it: the client has given up on that one.
      const superseded = new AbortController();
      const release = await inFlight.take(id, n, () => superseded.abort());
      try {
        return await receiveChunk(session, n, body, declared, expected, sizeError, superseded.signal);
      } finally {
        release();
      }
    },

    /**
     * Checks the client's list of chunk checksums against what was received, assembles the file,
     * and turns it into a media file (optionally submitting a job on it).
     */
    async finalize(principal: Principal, id: string, req: FinalizeChunked): Promise<{ session: UploadSessionRow; media: MediaFileRow; job?: SubmittedJob }> {
      const session = await receiving(principal.organizationId, id);
      const total = session.totalChunks!;
      if (req.chunkChecksums.length !== total) {
        throw new ValidationError(`chunk_checksums must list all ${total} chunks`, field('chunk_checksums', `must have ${total} entries`));
      }
      const chunks = await orm.em.fork().find(UploadChunkSchema, { session: id, etag: { $ne: null } }, { orderBy: { number: 'asc' } });
      const have = new Map(chunks.map((c) => [c.number, c]));
      const missing = [...Array(total).keys()].filter((n) => !have.has(n));
      if (missing.length) throw new ValidationError(`${missing.length} chunk(s) have not been received`, { missing_chunks: missing });
      const mismatched = chunks.filter((c) => c.sha256 !== req.chunkChecksums[c.number]!.toLowerCase()).map((c) => c.number);
      if (mismatched.length) throw new ValidationError('chunk_checksums do not match the chunks received', { mismatched_chunks: mismatched });
      if (req.process) {
        // Refused before anything is assembled; whether the action fits the media type is known after.
        const action = actions.get(req.process.actionId);
        if (!action) throw new InvalidActionError(`Unknown action: ${req.process.actionId}`, { action_id: req.process.actionId });
        const problems = actions.validateParameters(action, structuredClone(req.process.parameters));
        if (problems.length) throw new ValidationError('Invalid action parameters', { fields: problems });
        await quotas.assertCanSubmitJob(principal.organizationId);
      }

      await sessions.claim(session);
      const key = session.storageKey!;
      let media: MediaFileRow;
      try {
        await temp.complete(key, session.multipartUploadId!, chunks.map((c) => ({ partNumber: c.number + 1, etag: c.etag! })));
        media = await sessions.toMedia(session, await temp.open(key), session.sha256);
      } catch (err) {
        if (!(err instanceof AppError)) await sessions.fail(id, new AppError(500, 'INTERNAL_ERROR', 'the upload could not be assembled'));
        throw err;
      } finally {
        await temp.abort(key, session.multipartUploadId!).catch(() => undefined);
        await temp.remove([key]).catch(() => undefined);
      }
      const job = req.process
        ? await jobs.submit(principal.organizationId, {
            userId: principal.userId,
            apiKeyId: principal.apiKeyId,
            mediaId: media.id,
            actionId: req.process.actionId,
            parameters: req.process.parameters,
            providerKeys: req.providerKeys,
          })
        : undefined;
      return { session: await sessions.get(principal.organizationId, id), media, job };
    },

    /** Abandons an unfinished chunked upload and its parts. */
    async abort(organizationId: string, id: string): Promise<void> {
      const session = await receiving(organizationId, id);
      await sessions.claim(session);
      await temp.abort(session.storageKey!, session.multipartUploadId!);
      await sessions.remove(id);
    },
  };
}
export type ChunkedUploads = ReturnType<typeof createChunkedUploads>;

/**
 * Chunk PUTs being received by this instance, per upload: at most `perUpload` at once (more is
 * 429), and one request per chunk, so one upload cannot fill the spool. A chunk sent again while
 * an earlier request for it is still running (a client resending after its connection dropped,
 * before the server has noticed) cancels the earlier one and waits for it to end; only if it will
 * not end within SUPERSEDE_WAIT_MS is the resend a 409.
 */
const SUPERSEDE_WAIT_MS = 10_000;
interface Running { cancel: () => void; ended: Promise<void> }
function createInFlight(perUpload: number) {
  const uploads = new Map<string, Map<number, Running>>();
  return {
    async take(id: string, n: number, cancel: () => void): Promise<() => void> {
      const earlier = uploads.get(id)?.get(n);
      if (earlier) {
        earlier.cancel();
        let timer: NodeJS.Timeout | undefined;
        const ended = await Promise.race([
          earlier.ended.then(() => true),
          new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), SUPERSEDE_WAIT_MS))),
        ]).finally(() => clearTimeout(timer));
        if (!ended || uploads.get(id)?.has(n)) throw new ConflictError(`Chunk ${n} is being received by another request`, { chunk: n });
      }
      const chunks = uploads.get(id) ?? new Map<number, Running>();
      if (chunks.size >= perUpload) {
        throw new RateLimitedError(1, { reason: 'too_many_chunks_in_flight', limit: perUpload }, `At most ${perUpload} chunks of an upload may be sent at once`);
      }
      let end!: () => void;
      chunks.set(n, { cancel, ended: new Promise<void>((resolve) => (end = resolve)) });
      uploads.set(id, chunks);
      return () => {
        chunks.delete(n);
        if (!chunks.size && uploads.get(id) === chunks) uploads.delete(id);
        end();
      };
    },
  };
}
