import type { IncomingMessage } from 'node:http';
import { pipeline, type Readable } from 'node:stream';
import { Client } from 'minio';
import type { Config } from './config.js';
import {
  ENVELOPE_META,
  EnvelopeError,
  decryptStream,
  encryptBuffer,
  encryptStream,
  newEnvelope,
  formatEnvelope,
  parseEnvelope,
  plaintextSize,
  unwrapKey,
} from './envelope.js';
import { NotFoundError } from './errors.js';
import { createKeyring, type Keyring } from './keyring.js';
import { isNotFound } from './s3.js';

export interface ObjectInfo {
  /** Size of the content as callers put it (the plaintext), not of what is stored. */
  size: number;
  contentType: string;
}

/**
 * The S3 operations Mediaflow needs; kept S3-generic so any compatible store works. Content is
 * encrypted on the way in and decrypted on the way out (lib/envelope.ts): callers only see plaintext.
 */
export interface ObjectStorage {
  readonly bucket: string;
  ensureBucket(): Promise<void>;
  put(key: string, body: Readable | Buffer, contentType: string): Promise<void>;
  get(key: string): Promise<Readable>;
  stat(key: string): Promise<ObjectInfo | null>;
  remove(key: string): Promise<void>;
  ping(): Promise<void>;
}

/** `endpoint` other than the configured one: e.g. the public endpoint presigned URLs point at. */
export function createS3Client(s3: Config['s3'], endpoint: URL = s3.endpoint): Client {
  const useSSL = endpoint.protocol === 'https:';
  return new Client({
    endPoint: endpoint.hostname,
    port: endpoint.port ? Number(endpoint.port) : useSSL ? 443 : 80,
    useSSL,
    accessKey: s3.accessKey,
    secretKey: s3.secretKey,
    region: s3.region,
    pathStyle: true,
    partSize: s3.partSizeBytes,
  });
}

export const storageKeyring = (s3: Config['s3']): Keyring => createKeyring(s3.masterKeys, 'STORAGE_MASTER_KEYS');

const noop = () => undefined;

/** The object is not (or no longer) in the store: a 404 to a client, never a 500, and no key in the reply. */
export class ObjectNotFoundError extends NotFoundError {
  constructor(readonly key: string) {
    super('Stored content');
  }
}

export function createStorage(s3: Config['s3']): ObjectStorage {
  const client = createS3Client(s3);
  const keyring = storageKeyring(s3);
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
      const { envelope, dataKey } = newEnvelope(keyring);
      const meta = { 'Content-Type': contentType, [`x-amz-meta-${ENVELOPE_META}`]: formatEnvelope(envelope) };
      // pipeline() carries an error of either side to the other, so a failed source fails the upload.
      const sealed = Buffer.isBuffer(body) ? encryptBuffer(dataKey, envelope, body) : pipeline(body, encryptStream(dataKey, envelope), noop);
      try {
        if (Buffer.isBuffer(sealed)) await client.putObject(bucket, key, sealed, sealed.length, meta);
        else await putStream(client, bucket, key, sealed, meta, s3.partSizeBytes);
      } catch (err) {
        if (!Buffer.isBuffer(sealed)) sealed.destroy();
        // A failed multipart upload leaves parts behind unless it is aborted.
        await client.removeIncompleteUpload(bucket, key).catch(() => undefined);
        throw err;
      }
    },
    async get(key) {
      // The envelope comes with the content in one response: a concurrent overwrite cannot mix them.
      let res: IncomingMessage;
      try {
        res = (await client.getObject(bucket, key)) as IncomingMessage;
      } catch (err) {
        throw isNotFound(err) ? new ObjectNotFoundError(key) : err;
      }
      const raw = res.headers?.[`x-amz-meta-${ENVELOPE_META}`];
      if (typeof raw !== 'string') {
        if (!s3.requireEncryption) return res; // written before encryption existed: see docs/security.md
        res.destroy();
        throw new EnvelopeError(`object ${key} is not encrypted and STORAGE_REQUIRE_ENCRYPTION is on`);
      }
      let dataKey: Buffer;
      let envelope;
      try {
        envelope = parseEnvelope(raw);
        dataKey = unwrapKey(envelope, keyring);
      } catch (err) {
        res.destroy();
        throw err;
      }
      return pipeline(res, decryptStream(dataKey, envelope), noop);
    },
    async stat(key) {
      try {
        const s = await client.statObject(bucket, key);
        const raw = s.metaData?.[ENVELOPE_META];
        const size = typeof raw === 'string' ? plaintextSize(s.size, parseEnvelope(raw).segmentSize) : s.size;
        return { size, contentType: String(s.metaData?.['content-type'] ?? 'application/octet-stream') };
      } catch (err) {
        if (isNotFound(err)) return null;
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
  /** A pipeline step's file output (one per step, so steps with the same extension do not collide). */
  stepResult: (organizationId: string, jobId: string, stepIndex: number, ext: string) =>
    `orgs/${organizationId}/jobs/${jobId}/steps/${stepIndex}/result.${ext}`,
  /** A voice profile's sample; a new key per upload, so a replaced sample is removed only after the row points elsewhere. */
  speakerSample: (organizationId: string, profileId: string, uploadId: string) => `orgs/${organizationId}/speakers/${profileId}/sample-${uploadId}`,
  /** A piece of long audio being transcribed, and its transcript (removed once the step has its result). */
  transcriptionPiece: (organizationId: string, jobId: string, stepIndex: number, piece: number, ext: 'wav' | 'json') =>
    `orgs/${organizationId}/jobs/${jobId}/steps/${stepIndex}/pieces/${String(piece).padStart(3, '0')}.${ext}`,
};

/**
 * A multipart upload holding one part in memory at a time, in one buffer reused for every part.
 * minio-js's own stream upload queues up to 16 parts (its chunker's buffer) whenever the source is
 * faster than the store, so its memory grew with the part size instead of staying flat.
 */
async function putStream(client: Client, bucket: string, key: string, source: Readable, headers: Record<string, string>, partSize: number): Promise<void> {
  let uploadId: string | undefined;
  const etags: { part: number; etag: string }[] = [];
  const part = Buffer.allocUnsafe(partSize);
  let filled = 0;
  const upload = async (bytes: Buffer) => {
    uploadId ??= await client.initiateNewMultipartUpload(bucket, key, headers);
    const partNumber = etags.length + 1;
    const { etag } = await client.uploadPart({ bucketName: bucket, objectName: key, uploadID: uploadId, partNumber, headers: { 'Content-Length': String(bytes.length) } }, bytes);
    etags.push({ part: partNumber, etag });
  };
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      for (let offset = 0; offset < chunk.length; ) {
        const copied = chunk.copy(part, filled, offset);
        filled += copied;
        offset += copied;
        if (filled === partSize) {
          await upload(part);
          filled = 0;
        }
      }
    }
    if (!uploadId) {
      await client.putObject(bucket, key, part.subarray(0, filled), filled, headers);
      return;
    }
    if (filled > 0) await upload(part.subarray(0, filled));
    await client.completeMultipartUpload(bucket, key, uploadId, etags);
  } catch (err) {
    if (uploadId) await client.abortMultipartUpload(bucket, key, uploadId).catch(() => undefined);
    throw err;
  }
}
