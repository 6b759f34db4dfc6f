import type { Readable } from 'node:stream';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Config } from './config.js';
import { isNotFound, s3ClientConfig } from './s3.js';
import { createS3Client } from './storage.js';

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
  const putSigner = new S3Client(s3ClientConfig(s3, publicEndpoint));
  const bucket = s3.bucket;
  return {
    presignPut: (key, sizeBytes, expirySeconds) =>
      getSignedUrl(putSigner, new PutObjectCommand({ Bucket: bucket, Key: key, ContentLength: sizeBytes }), {
        expiresIn: expirySeconds,
        signableHeaders: new Set(['content-length']),
      }),
    async presignPost(key, sizeBytes, expirySeconds) {
      const policy = signer.newPostPolicy();
      policy.setBucket(bucket);
      policy.setKey(key);
      policy.setExpires(new Date(Date.now() + expirySeconds * 1000));
      policy.setContentLengthRange(sizeBytes, sizeBytes);
      const { postURL, formData } = await signer.presignedPostPolicy(policy);
      return { url: postURL, fields: formData };
    },
    async size(key) {
      try {
        return (await internal.statObject(bucket, key)).size;
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    },
    read: (key) => internal.getObject(bucket, key),
    async remove(key) {
      await internal.removeObject(bucket, key);
    },
  };
}

export const incomingKey = (organizationId: string, uploadId: string): string => `incoming/${organizationId}/${uploadId}`;
