import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { Config } from '#lib/config.js';
import { createS3Client, isNotFound, listMultipartUploads, listObjects } from '#lib/s3.js';

/** Where upload parts wait until they become a media file. Not encrypted at rest: see docs in openapi.yaml (Uploads). */
export const UPLOADS_PREFIX = 'uploads/';
export const tusKey = (id: string) => `${UPLOADS_PREFIX}tus/${id}`;
export const chunkedKey = (id: string) => `${UPLOADS_PREFIX}chunked/${id}`;

/**
 * Temporary upload objects under `uploads/`: S3 multipart uploads whose parts are the chunks of a
 * chunked upload, read back once assembled, and removed afterwards or when they expire.
 */
export function createTempStore(s3: Config['s3']) {
  const client = createS3Client(s3);
  const Bucket = s3.bucket;
  return {
    async createMultipart(key: string): Promise<string> {
      const res = await client.send(new CreateMultipartUploadCommand({ Bucket, Key: key, ContentType: 'application/octet-stream' }));
      return res.UploadId!;
    },
    /** Streams one part (its length known, so nothing is buffered) and returns its ETag. */
    async uploadPart(key: string, uploadId: string, partNumber: number, body: Readable, length: number): Promise<string> {
      const res = await client.send(new UploadPartCommand({ Bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: body, ContentLength: length }));
      return res.ETag!;
    },
    async complete(key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<void> {
      await client.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        }),
      );
    },
    async abort(key: string, uploadId: string): Promise<void> {
      try {
        await client.send(new AbortMultipartUploadCommand({ Bucket, Key: key, UploadId: uploadId }));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
    async open(key: string): Promise<Readable> {
      const res = await client.send(new GetObjectCommand({ Bucket, Key: key }));
      return res.Body as Readable;
    },
    async remove(keys: string[]): Promise<void> {
      if (keys.length) await client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }));
    },
    /** Objects and unfinished multipart uploads under `prefix`, for tests and the expiry sweep. */
    async list(prefix: string): Promise<{ objects: { key: string; modified: Date }[]; multipart: { key: string; uploadId: string; initiated: Date }[] }> {
      const objects: { key: string; modified: Date }[] = [];
      for await (const o of listObjects(client, Bucket, prefix)) objects.push({ key: o.Key, modified: o.LastModified ?? new Date(0) });
      const multipart: { key: string; uploadId: string; initiated: Date }[] = [];
      for await (const u of listMultipartUploads(client, Bucket, prefix)) multipart.push({ key: u.Key, uploadId: u.UploadId, initiated: u.Initiated ?? new Date(0) });
      return { objects, multipart };
    },
    close: () => client.destroy(),
  };
}
export type TempStore = ReturnType<typeof createTempStore>;
