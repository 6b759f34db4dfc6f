import { createHmac } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  HeadBucketCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  type MultipartUpload,
  type _Object,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import type { Config } from './config.js';

/**
 * The AWS SDK's settings for the bucket (tus's S3 store takes them as they are; everything else
 * builds its client with createS3Client), at `endpoint`: another than the configured one for URLs
 * presigned for clients (S3_PUBLIC_ENDPOINT). Path-style addressing, as MinIO needs.
 */
export const s3ClientConfig = (s3: Config['s3'], endpoint: URL = s3.endpoint): S3ClientConfig => ({
  endpoint: endpoint.href.replace(/\/$/, ''),
  region: s3.region,
  forcePathStyle: true,
  credentials: { accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey },
  // MinIO and most S3-compatible stores do not implement the newer default checksums.
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});

/**
 * The one client of the bucket. Its sockets are not capped: downloads stream from the store for as
 * long as their readers take, and a cap (the SDK's default is 50) would queue one behind the others.
 */
export const createS3Client = (s3: Config['s3'], endpoint: URL = s3.endpoint): S3Client =>
  new S3Client({
    ...s3ClientConfig(s3, endpoint),
    requestHandler: { httpAgent: { keepAlive: true, maxSockets: Infinity }, httpsAgent: { keepAlive: true, maxSockets: Infinity } },
  });

const NOT_FOUND = new Set(['NotFound', 'NoSuchKey', 'NoSuchUpload']);

/** The object, or the multipart upload, is not in the store (the SDK names the S3 error code in `name`). */
export function isNotFound(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { name } = err as { name?: unknown };
  return typeof name === 'string' && NOT_FOUND.has(name);
}

/** Whether the bucket exists: false when the store answers 404, an error when it cannot be asked. */
export async function bucketExists(client: S3Client, bucket: string): Promise<boolean> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NotFound' || e.name === 'NoSuchBucket' || e.$metadata?.httpStatusCode === 404) return false;
    throw err;
  }
}

/** Every object under `prefix`, page by page. */
export async function* listObjects(client: S3Client, bucket: string, prefix: string): AsyncGenerator<_Object & { Key: string }> {
  for (let token: string | undefined, more = true; more; ) {
    const res = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of res.Contents ?? []) if (o.Key) yield o as _Object & { Key: string };
    token = res.NextContinuationToken;
    more = Boolean(res.IsTruncated && token);
  }
}

/** Every unfinished multipart upload under `prefix`, page by page. */
export async function* listMultipartUploads(client: S3Client, bucket: string, prefix: string): AsyncGenerator<MultipartUpload & { Key: string; UploadId: string }> {
  for (let keyMarker: string | undefined, idMarker: string | undefined, more = true; more; ) {
    const res = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: idMarker }));
    for (const u of res.Uploads ?? []) if (u.Key && u.UploadId) yield u as MultipartUpload & { Key: string; UploadId: string };
    keyMarker = res.NextKeyMarker;
    idMarker = res.NextUploadIdMarker;
    more = Boolean(res.IsTruncated);
  }
}

/** Aborts the unfinished multipart uploads of exactly `key` (a put that died half-way leaves its parts). */
export async function abortMultipartUploads(client: S3Client, bucket: string, key: string): Promise<void> {
  for await (const u of listMultipartUploads(client, bucket, key)) {
    if (u.Key !== key) continue;
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: u.UploadId }));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

/** Removes `keys` in batches of a thousand (one request each; a missing key is no error). */
export async function removeObjects(client: S3Client, bucket: string, keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000);
    const res = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
    const failed = res.Errors?.filter((e) => e.Code !== 'NoSuchKey') ?? [];
    if (failed.length) throw new Error(`could not remove ${failed.length} object(s), first ${failed[0]!.Key}: ${failed[0]!.Code} ${failed[0]!.Message ?? ''}`.trim());
  }
}

/** The value of CopyObject's CopySource: the bucket and the key, each path segment URL-encoded. */
export const copySource = (bucket: string, key: string): string => `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;

/**
 * A browser-style POST upload (SigV4 POST policy): the form fields fix the bucket and the key and
 * allow a body of `minBytes` to `maxBytes`, until `expires`. Signed offline with the configured
 * credentials and region; the URL is the bucket's, path-style, at `endpoint`.
 */
export function presignPostPolicy(
  s3: Config['s3'],
  endpoint: URL,
  o: { key: string; minBytes: number; maxBytes: number; expires: Date; now?: Date },
): { url: string; fields: Record<string, string> } {
  const now = o.now ?? new Date();
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, ''); // 20260102T030405Z
  const day = amzDate.slice(0, 8);
  const credential = `${s3.accessKey}/${day}/${s3.region}/s3/aws4_request`;
  const policy = {
    expiration: o.expires.toISOString(),
    conditions: [
      ['eq', '$bucket', s3.bucket],
      ['eq', '$key', o.key],
      ['content-length-range', o.minBytes, o.maxBytes],
      ['eq', '$x-amz-date', amzDate],
      ['eq', '$x-amz-algorithm', 'AWS4-HMAC-SHA256'],
      ['eq', '$x-amz-credential', credential],
    ],
  };
  const encoded = Buffer.from(JSON.stringify(policy)).toString('base64');
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${s3.secretKey}`, day), s3.region), 's3'), 'aws4_request');
  return {
    url: `${endpoint.href.replace(/\/$/, '')}/${s3.bucket}`,
    fields: {
      bucket: s3.bucket,
      key: o.key,
      'x-amz-date': amzDate,
      'x-amz-algorithm': 'AWS4-HMAC-SHA256',
      'x-amz-credential': credential,
      policy: encoded,
      'x-amz-signature': createHmac('sha256', signingKey).update(encoded).digest('hex'),
    },
  };
}
