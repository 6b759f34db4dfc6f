// The bucket as it is, beneath the storage adapter: what tests look at or plant directly.
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { Config } from '#lib/config.js';
import { createS3Client, listMultipartUploads, listObjects, removeObjects } from '#lib/s3.js';

/** A raw client of the bucket (no encryption): each call opens and closes its own S3 client. */
export function rawBucket(s3: Config['s3']) {
  const Bucket = s3.bucket;
  const withClient = async <T>(fn: (c: ReturnType<typeof createS3Client>) => Promise<T>): Promise<T> => {
    const client = createS3Client(s3);
    try {
      return await fn(client);
    } finally {
      client.destroy();
    }
  };
  return {
    /** Keys of the objects under `prefix`. */
    keys: (prefix: string) =>
      withClient(async (c) => {
        const keys: string[] = [];
        for await (const o of listObjects(c, Bucket, prefix)) keys.push(o.Key);
        return keys;
      }),
    /** How many unfinished multipart uploads lie under `prefix`. */
    multipartUploads: (prefix: string) =>
      withClient(async (c) => {
        let n = 0;
        for await (const _ of listMultipartUploads(c, Bucket, prefix)) n++;
        return n;
      }),
    /** The stored bytes, as they are in the store. */
    bytes: (key: string) => withClient(async (c) => buffer((await c.send(new GetObjectCommand({ Bucket, Key: key }))).Body as Readable)),
    /** The object's user metadata (x-amz-meta-*, without the prefix) and content type. */
    head: (key: string) =>
      withClient(async (c) => {
        const res = await c.send(new HeadObjectCommand({ Bucket, Key: key }));
        return { metadata: res.Metadata ?? {}, contentType: res.ContentType, size: res.ContentLength ?? 0 };
      }),
    put: (key: string, body: Buffer, o: { contentType?: string; metadata?: Record<string, string> } = {}) =>
      withClient(async (c) => void (await c.send(new PutObjectCommand({ Bucket, Key: key, Body: body, ContentType: o.contentType, Metadata: o.metadata })))),
    remove: (keys: string[]) => withClient((c) => removeObjects(c, Bucket, keys)),
  };
}
