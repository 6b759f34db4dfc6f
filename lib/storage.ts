import type { Readable } from 'node:stream';
import { Client } from 'minio';
import type { Config } from './config.js';

export interface ObjectInfo {
  size: number;
  contentType: string;
}

/** The S3 operations Mediaflow needs; kept S3-generic so any compatible store works. */
export interface ObjectStorage {
  readonly bucket: string;
  ensureBucket(): Promise<void>;
  put(key: string, body: Readable | Buffer, contentType: string): Promise<void>;
  get(key: string): Promise<Readable>;
  stat(key: string): Promise<ObjectInfo | null>;
  remove(key: string): Promise<void>;
  ping(): Promise<void>;
}

export function createStorage(s3: Config['s3']): ObjectStorage {
  const useSSL = s3.endpoint.protocol === 'https:';
  const client = new Client({
    endPoint: s3.endpoint.hostname,
    port: s3.endpoint.port ? Number(s3.endpoint.port) : useSSL ? 443 : 80,
    useSSL,
    accessKey: s3.accessKey,
    secretKey: s3.secretKey,
    region: s3.region,
    pathStyle: true,
    partSize: s3.partSizeBytes,
  });
  const bucket = s3.bucket;
  return {
    bucket,
    async ensureBucket() {
      if (!(await client.bucketExists(bucket))) {
        try {
          await client.makeBucket(bucket, s3.region);
        } catch (err) {
          // Another process may have created it between the two calls.
          if (!(await client.bucketExists(bucket))) throw err;
        }
      }
    },
    async put(key, body, contentType) {
      try {
        await client.putObject(bucket, key, body, Buffer.isBuffer(body) ? body.length : undefined, {
          'Content-Type': contentType,
        });
      } catch (err) {
        // A failed multipart upload leaves parts behind unless it is aborted.
        await client.removeIncompleteUpload(bucket, key).catch(() => undefined);
        throw err;
      }
    },
    get: (key) => client.getObject(bucket, key),
    async stat(key) {
      try {
        const s = await client.statObject(bucket, key);
        return { size: s.size, contentType: String(s.metaData?.['content-type'] ?? 'application/octet-stream') };
      } catch (err) {
        if ((err as { code?: string }).code === 'NotFound' || (err as { code?: string }).code === 'NoSuchKey') return null;
        throw err;
      }
    },
    async remove(key) {
      await client.removeIncompleteUpload(bucket, key).catch(() => undefined);
      await client.removeObject(bucket, key);
    },
    async ping() {
      await client.bucketExists(bucket);
    },
  };
}

export const keys = {
  original: (organizationId: string, mediaId: string) => `orgs/${organizationId}/media/${mediaId}/original`,
  thumbnail: (organizationId: string, mediaId: string) => `orgs/${organizationId}/media/${mediaId}/thumbnail.jpg`,
  result: (organizationId: string, jobId: string, ext: string) => `orgs/${organizationId}/jobs/${jobId}/result.${ext}`,
};
