import type { S3ClientConfig } from '@aws-sdk/client-s3';
import type { Config } from './config.js';

/**
 * The AWS SDK's settings for the bucket (the temporary upload store and tus's S3 store use them),
 * at `endpoint`: another than the configured one for URLs presigned for clients (S3_PUBLIC_ENDPOINT).
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

const NOT_FOUND = new Set(['NotFound', 'NoSuchKey', 'NoSuchUpload']);

/**
 * The object, or the multipart upload, is not in the store. minio-js names the S3 error code in
 * `code`, the AWS SDK in `name`: one test for both clients.
 */
export function isNotFound(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, name } = err as { code?: unknown; name?: unknown };
  return (typeof code === 'string' && NOT_FOUND.has(code)) || (typeof name === 'string' && NOT_FOUND.has(name));
}
