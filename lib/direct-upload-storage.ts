import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Config } from './config.js';
import { createS3Client, isNotFound, presignPostPolicy } from './s3.js';

export interface PresignedPost {
  url: string;
  fields: Record<string, string>;
}

/**
 * The temporary objects of presigned uploads, which clients write straight to the object store.
 * Separate from ObjectStorage on purpose: these bytes arrive as the client sent them (storage's own
 * encoding, e.g. encryption at rest, never applied), so they are read raw, verified, and then
 * stored as a media file through the ordinary path. URLs are signed for the endpoint clients reach
 * (S3_PUBLIC_ENDPOINT); reads and removals go to the internal one.
 */
export interface DirectUploadStorage {
  /** A PUT URL whose signature covers Content-Length: the store refuses a body of any other size. */
  presignPut(key: string, sizeBytes: number, expirySeconds: number): Promise<string>;
  /** A browser-style POST whose policy fixes the key and allows exactly `sizeBytes`. */
  presignPost(key: string, sizeBytes: number, expirySeconds: number): Promise<PresignedPost>;
  /** The object's size, or null when nothing was uploaded. */
  size(key: string): Promise<number | null>;
  read(key: string): Promise<Readable>;
  remove(key: string): Promise<void>;
}

export function createDirectUploadStorage(s3: Config['s3'], publicEndpoint: URL): DirectUploadStorage {
  const internal = createS3Client(s3);
  // The region is fixed by config, so presigning needs no request to the (possibly unreachable) public endpoint.
  const signer = createS3Client(s3, publicEndpoint);
  const Bucket = s3.bucket;
  return {
    presignPut: (key, sizeBytes, expirySeconds) =>
      getSignedUrl(signer, new PutObjectCommand({ Bucket, Key: key, ContentLength: sizeBytes }), {
        expiresIn: expirySeconds,
        signableHeaders: new Set(['content-length']),
      }),
    async presignPost(key, sizeBytes, expirySeconds) {
      return presignPostPolicy(s3, publicEndpoint, { key, minBytes: sizeBytes, maxBytes: sizeBytes, expires: new Date(Date.now() + expirySeconds * 1000) });
    },
    async size(key) {
      try {
        return (await internal.send(new HeadObjectCommand({ Bucket, Key: key }))).ContentLength ?? 0;
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    },
    read: async (key) => (await internal.send(new GetObjectCommand({ Bucket, Key: key }))).Body as Readable,
    async remove(key) {
      await internal.send(new DeleteObjectCommand({ Bucket, Key: key }));
    },
  };
}

export const incomingKey = (organizationId: string, uploadId: string): string => `incoming/${organizationId}/${uploadId}`;
