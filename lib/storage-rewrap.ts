import { CopyObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { Config } from './config.js';
import { ENVELOPE_META, formatEnvelope, parseEnvelope, rewrapEnvelope } from './envelope.js';
import { copySource, createS3Client, listObjects } from './s3.js';
import { storageKeyring } from './storage.js';

export interface RewrapReport {
  /** Data key now wrapped under the primary key. */
  rewrapped: number;
  /** Already under the primary key. */
  current: number;
  /** Stored before encryption existed: no envelope to rewrap. */
  plaintext: number;
  failed: { key: string; error: string }[];
}

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
  const Bucket = s3.bucket;
  try {
    for await (const { Key: key } of listObjects(client, Bucket, opts.prefix ?? '')) {
      try {
        const stat = await client.send(new HeadObjectCommand({ Bucket, Key: key }));
        const raw = stat.Metadata?.[ENVELOPE_META];
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
        // With MetadataDirective REPLACE, the standard headers S3 keeps with the object must be sent again.
        await client.send(
          new CopyObjectCommand({
            Bucket,
            Key: key,
            CopySource: copySource(Bucket, key),
            CopySourceIfMatch: stat.ETag,
            MetadataDirective: 'REPLACE',
            Metadata: { ...stat.Metadata, [ENVELOPE_META]: formatEnvelope(rewrapEnvelope(envelope, keyring)) },
            ContentType: stat.ContentType,
            ContentEncoding: stat.ContentEncoding,
            ContentDisposition: stat.ContentDisposition,
            ContentLanguage: stat.ContentLanguage,
            CacheControl: stat.CacheControl,
            Expires: stat.Expires,
          }),
        );
        report.rewrapped++;
        opts.onObject?.(key, `rewrapped ${envelope.keyId} -> ${keyring.primary.id}`);
      } catch (err) {
        report.failed.push({ key, error: (err as Error).message });
        opts.onObject?.(key, `failed: ${(err as Error).message}`);
      }
    }
  } finally {
    client.destroy();
  }
  return report;
}
