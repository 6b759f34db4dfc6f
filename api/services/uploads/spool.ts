import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface Spooled {
  path: string;
  size: number;
  /** Hex digests by algorithm. */
  digests: Record<string, Buffer>;
  remove(): Promise<void>;
}

export class SpoolLimitError extends Error {}

/**
 * Writes a request body to a temporary file while hashing it, so it can be verified before any
 * byte reaches storage. Memory stays flat; at most `maxBytes` land on disk (more: SpoolLimitError).
 */
export async function spool(source: Readable, algorithms: string[], maxBytes: number): Promise<Spooled> {
  const path = join(tmpdir(), `mediaflow-upload-${randomUUID()}`);
  const hashes = algorithms.map((a) => [a, createHash(a)] as const);
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (size > maxBytes) return cb(new SpoolLimitError(`body larger than ${maxBytes} bytes`));
      for (const [, h] of hashes) h.update(chunk);
      cb(null, chunk);
    },
  });
  const remove = () => rm(path, { force: true });
  try {
    await pipeline(source, tap, createWriteStream(path));
  } catch (err) {
    await remove();
    throw err;
  }
  return { path, size, digests: Object.fromEntries(hashes.map(([a, h]) => [a, h.digest()])), remove };
}
