import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Inputs up to this size are downloaded to memory for actions that read a buffer
 * (`inMemoryInput`): sharp decodes them without a temporary file written, read and removed.
 * Larger ones stream to disk, so memory stays bounded by this times the worker's activity slots.
 */
export const MEMORY_INPUT_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Reads the input to memory when `memoryMax` > 0 and it is no larger (the buffer), else to `path`
 * (undefined). An input that turns out larger than announced spills to the file as it arrives.
 */
export async function download(source: Readable, path: string, memoryMax: number, signal: AbortSignal): Promise<Buffer | undefined> {
  if (memoryMax <= 0) {
    await pipeline(source, createWriteStream(path), { signal });
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const abort = () => source.destroy(signal.reason instanceof Error ? signal.reason : new Error('download aborted'));
  signal.addEventListener('abort', abort, { once: true });
  try {
    signal.throwIfAborted();
    for await (const chunk of source.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size > memoryMax) break;
    }
    signal.throwIfAborted();
  } catch (err) {
    source.destroy();
    throw err;
  } finally {
    signal.removeEventListener('abort', abort);
  }
  if (size <= memoryMax) return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
  await writeFile(path, chunks);
  await pipeline(source, createWriteStream(path, { flags: 'a' }), { signal });
  return undefined;
}
