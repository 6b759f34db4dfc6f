import { CopyDestinationOptions, CopySourceOptions } from 'minio';
import type { Config } from './config.js';
import { ENVELOPE_META, formatEnvelope, parseEnvelope, rewrapEnvelope } from './envelope.js';
import { createS3Client, storageKeyring } from './storage.js';

export interface RewrapReport {
  /** Data key now wrapped under the primary key. */
  rewrapped: number;
  /** Already under the primary key. */
  current: number;
  /** Stored before encryption existed: no envelope to rewrap. */
  plaintext: number;
  failed: { key: string; error: string }[];
}

// Standard headers S3 keeps as object metadata; with MetadataDirective REPLACE they must be sent again.
const STANDARD = new Set(['content-type', 'content-encoding', 'content-disposition', 'content-language', 'cache-control', 'expires']);

/**
 * Rotation: every object whose data key is wrapped under a key other than the primary gets its
 * envelope rewrapped under the primary, by a server-side copy onto itself that replaces the
 * metadata only — the content (encrypted with the unchanged data key) is never read or rewritten.
 * The copy is conditional on the ETag seen, so an object replaced meanwhile is left alone.
 */
export async function rewrapStorage(s3: Config['s3'], opts: { prefix?: string; onObject?: (key: string, outcome: string) => void } = {}): Promise<RewrapReport> {
  const client = createS3Client(s3);
  const keyring = storageKeyring(s3);
  const report: RewrapReport = { rewrapped: 0, current: 0, plaintext: 0, failed: [] };
  for await (const item of client.listObjectsV2(s3.bucket, opts.prefix ?? '', true) as AsyncIterable<{ name?: string }>) {
    const key = item.name;
    if (!key) continue;
    try {
      const stat = await client.statObject(s3.bucket, key);
      const raw = stat.metaData?.[ENVELOPE_META];
      if (typeof raw !== 'string') {
        report.plaintext++;
        opts.onObject?.(key, 'plaintext');
        continue;
      }
      const envelope = parseEnvelope(raw);
      if (envelope.keyId === keyring.primary.id) {
        report.current++;
        continue;
      }
      const headers: Record<string, string> = {};
      const userMetadata: Record<string, string> = {};
      for (const [name, value] of Object.entries(stat.metaData ?? {})) {
        const lower = name.toLowerCase();
        if (lower === ENVELOPE_META || lower.startsWith('x-amz-')) continue;
        if (STANDARD.has(lower)) headers[name] = String(value);
        else userMetadata[name] = String(value);
      }
      userMetadata[ENVELOPE_META] = formatEnvelope(rewrapEnvelope(envelope, keyring));
      await client.copyObject(
        new CopySourceOptions({ Bucket: s3.bucket, Object: key, MatchETag: stat.etag }),
        new CopyDestinationOptions({ Bucket: s3.bucket, Object: key, MetadataDirective: 'REPLACE', UserMetadata: userMetadata, Headers: headers }),
      );
      report.rewrapped++;
      opts.onObject?.(key, `rewrapped ${envelope.keyId} -> ${keyring.primary.id}`);
    } catch (err) {
      report.failed.push({ key, error: (err as Error).message });
      opts.onObject?.(key, `failed: ${(err as Error).message}`);
    }
  }
  return report;
}
