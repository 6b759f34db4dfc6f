import { pipeline, type Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type BucketLocationConstraint,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
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
import { abortMultipartUploads, bucketExists, createS3Client, isNotFound } from './s3.js';

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
  const Bucket = s3.bucket;
  return {
    bucket: Bucket,
    async ensureBucket() {
      if (!(await bucketExists(client, Bucket))) {
        try {
          // us-east-1 is the default location and must not be named (S3 refuses it as a constraint).
          const location = s3.region === 'us-east-1' ? undefined : { LocationConstraint: s3.region as BucketLocationConstraint };
          await client.send(new CreateBucketCommand({ Bucket, CreateBucketConfiguration: location }));
        } catch (err) {
          // Another process may have created it between the two calls.
          if (!(await bucketExists(client, Bucket))) throw err;
        }
      }
    },
    async put(key, body, contentType) {
      const { envelope, dataKey } = newEnvelope(keyring);
      const head: ObjectHead = { Bucket, Key: key, ContentType: contentType, Metadata: { [ENVELOPE_META]: formatEnvelope(envelope) } };
      if (Buffer.isBuffer(body)) {
        await client.send(new PutObjectCommand({ ...head, Body: encryptBuffer(dataKey, envelope, body) }));
        return;
      }
      // pipeline() carries an error of either side to the other, so a failed source fails the upload.
      const sealed = pipeline(body, encryptStream(dataKey, envelope), noop);
      try {
        await putStream(client, head, sealed, s3.partSizeBytes);
      } catch (err) {
        sealed.destroy();
        throw err;
      }
    },
    async get(key) {
      // The envelope comes with the content in one response: a concurrent overwrite cannot mix them.
      let res;
      try {
        res = await client.send(new GetObjectCommand({ Bucket, Key: key }));
      } catch (err) {
        throw isNotFound(err) ? new ObjectNotFoundError(key) : err;
      }
      const body = res.Body as Readable;
      const raw = res.Metadata?.[ENVELOPE_META];
      if (typeof raw !== 'string') {
        if (!s3.requireEncryption) return body; // written before encryption existed: see docs/security.md
        body.destroy();
        throw new EnvelopeError(`object ${key} is not encrypted and STORAGE_REQUIRE_ENCRYPTION is on`);
      }
      let dataKey: Buffer;
      let envelope;
      try {
        envelope = parseEnvelope(raw);
        dataKey = unwrapKey(envelope, keyring);
      } catch (err) {
        body.destroy();
        throw err;
      }
      return pipeline(body, decryptStream(dataKey, envelope), noop);
    },
    async stat(key) {
      try {
        const s = await client.send(new HeadObjectCommand({ Bucket, Key: key }));
        const stored = s.ContentLength ?? 0;
        const raw = s.Metadata?.[ENVELOPE_META];
        const size = typeof raw === 'string' ? plaintextSize(stored, parseEnvelope(raw).segmentSize) : stored;
        return { size, contentType: s.ContentType ?? 'application/octet-stream' };
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    },
    async remove(key) {
      await abortMultipartUploads(client, Bucket, key).catch(() => undefined);
      await client.send(new DeleteObjectCommand({ Bucket, Key: key }));
    },
    async ping() {
      await bucketExists(client, Bucket);
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

/** What a put sends besides the bytes: where, the content type and the envelope. */
interface ObjectHead {
  Bucket: string;
  Key: string;
  ContentType: string;
  Metadata: Record<string, string>;
}

/**
 * A multipart upload of a stream of unknown length holding one part in memory at a time, in one
 * buffer reused for every part (each part is sent before the next is read, so the source is paused
 * while the store is slower). A stream shorter than one part becomes a single PutObject.
 */
async function putStream(client: S3Client, head: ObjectHead, source: Readable, partSize: number): Promise<void> {
  const { Bucket, Key } = head;
  let uploadId: string | undefined;
  const parts: CompletedPart[] = [];
  const part = Buffer.allocUnsafe(partSize);
  let filled = 0;
  const upload = async (bytes: Buffer) => {
    uploadId ??= (await client.send(new CreateMultipartUploadCommand(head))).UploadId!;
    const PartNumber = parts.length + 1;
    const { ETag } = await client.send(new UploadPartCommand({ Bucket, Key, UploadId: uploadId, PartNumber, Body: bytes, ContentLength: bytes.length }));
    parts.push({ PartNumber, ETag });
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
      await client.send(new PutObjectCommand({ ...head, Body: part.subarray(0, filled), ContentLength: filled }));
      return;
    }
    if (filled > 0) await upload(part.subarray(0, filled));
    await client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
  } catch (err) {
    // A failed multipart upload leaves its parts behind unless it is aborted.
    if (uploadId) await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: uploadId })).catch(() => undefined);
    throw err;
  }
}
