import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { FileTooLargeError, InvalidFileTypeError } from '#lib/errors.js';
import { Hasher, type Digest } from '#lib/hashing.js';
import type { ObjectStorage } from '#lib/storage.js';
import { detectMediaType, SNIFF_BYTES, supportedFormatNames, type DetectedType } from './media-types.js';

export interface IngestLimits {
  maxBytes: (type: DetectedType) => number;
  /** Throws to refuse a recognised type (e.g. not the media type that was declared). */
  accept?: (type: DetectedType) => void;
  /** A local file that receives a copy of the bytes, for inspection once the upload is stored. */
  spoolPath?: string;
}

export interface Ingested {
  type: DetectedType;
  digest: Digest;
}

/**
 * Streams an upload into storage under `key`: the type comes from the magic bytes, MD5 and SHA-256
 * are computed on the way, and memory stays bounded by the storage client's part size.
 * The body handed to storage only ever ends normally (S3 clients hang on a body that errors), so
 * every failure is recorded, the partial object removed, and the failure thrown afterwards.
 * A refused source is left unread, not destroyed: its owner (multer) drains the request.
 */
export async function ingest(storage: ObjectStorage, key: string, source: Readable, limits: IngestLimits): Promise<Ingested> {
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let head = Buffer.alloc(0);
  let sourceDone = false;
  while (head.length < SNIFF_BYTES) {
    const next = await iterator.next();
    if (next.done) {
      sourceDone = true;
      break;
    }
    head = Buffer.concat([head, next.value]);
  }
  const detection = await detectMediaType(head);
  if (!detection.ok) {
    const supported = supportedFormatNames();
    throw new InvalidFileTypeError(`Unsupported file type: ${detection.reason}. Supported: ${supported.join(', ')}`, {
      field: 'file',
      ...(detection.detected ? { detected: detection.detected } : {}),
      supported,
    });
  }
  const type = detection.type;
  limits.accept?.(type);
  const maxBytes = limits.maxBytes(type);
  const hasher = new Hasher();
  const spool: WriteStream | undefined = limits.spoolPath ? createWriteStream(limits.spoolPath, { mode: 0o600 }) : undefined;
  const spooled = spool ? once(spool, 'close') : undefined;
  spool?.on('error', (err) => {
    failure ??= err;
    stop.abort();
  });
  const body = new PassThrough();
  const stop = new AbortController();
  let failure: unknown;
  let size = 0;

  const write = async (chunk: Buffer): Promise<boolean> => {
    size += chunk.length;
    if (size > maxBytes) {
      failure = new FileTooLargeError(maxBytes);
      return false;
    }
    hasher.update(chunk);
    const waits: Promise<unknown>[] = [];
    if (!body.write(chunk)) waits.push(once(body, 'drain', { signal: stop.signal }));
    if (spool && !spool.write(chunk)) waits.push(once(spool, 'drain', { signal: stop.signal }));
    await Promise.all(waits);
    return true;
  };
  const feed = (async () => {
    try {
      if ((await write(head)) && !sourceDone) {
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
          if (!(await write(next.value))) break;
        }
      }
    } catch (err) {
      failure ??= err;
    } finally {
      body.end();
      spool?.end();
    }
  })();

  try {
    await storage.put(key, body, type.mimeType);
  } catch (err) {
    stop.abort();
    failure ??= err;
  }
  await feed;
  await spooled?.catch(() => undefined);
  if (failure) {
    await storage.remove(key).catch(() => undefined);
    throw failure;
  }
  return { type, digest: hasher.digest() };
}
