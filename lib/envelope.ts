import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { Keyring, KeyringKey } from './keyring.js';

/*
 * Envelope encryption of stored objects (format "v1", described in docs/security.md).
 * Each object has its own random 256-bit data key; the content is AES-256-GCM in fixed-size
 * segments so both directions stream with memory bounded by one segment. The data key is wrapped
 * with a master key and travels in the object's user metadata, so rotating the master key only
 * rewrites that metadata.
 */

export const SEGMENT_SIZE = 64 * 1024;
const TAG = 16;
const VERSION = 'v1';
/** User metadata name (S3 sends it as x-amz-meta-mf-enc). */
export const ENVELOPE_META = 'mf-enc';

export interface Envelope {
  keyId: string;
  /** IV (12) | wrapped data key (32) | tag (16). */
  wrappedKey: Buffer;
  /** Random 8 bytes; a segment's nonce is this prefix and the segment's 32-bit counter. */
  noncePrefix: Buffer;
  segmentSize: number;
}

export class EnvelopeError extends Error {
  override name = 'EnvelopeError';
}

const b64 = (b: Buffer) => b.toString('base64url');

export function formatEnvelope(e: Envelope): string {
  return `${VERSION};kid=${e.keyId};wk=${b64(e.wrappedKey)};np=${b64(e.noncePrefix)};ss=${e.segmentSize}`;
}

export function parseEnvelope(raw: string): Envelope {
  const [version, ...fields] = raw.split(';');
  if (version !== VERSION) throw new EnvelopeError(`unknown envelope version "${version}"`);
  const f = Object.fromEntries(fields.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
  const envelope = {
    keyId: f.kid ?? '',
    wrappedKey: Buffer.from(f.wk ?? '', 'base64url'),
    noncePrefix: Buffer.from(f.np ?? '', 'base64url'),
    segmentSize: Number(f.ss),
  };
  if (!envelope.keyId || envelope.wrappedKey.length !== 60 || envelope.noncePrefix.length !== 8 || !(envelope.segmentSize > 0)) {
    throw new EnvelopeError('malformed envelope metadata');
  }
  return envelope;
}

// The wrap authenticates the envelope's other fields too: none of them can be swapped or edited.
const wrapAad = (keyId: string, noncePrefix: Buffer, segmentSize: number) => Buffer.from(`${VERSION}|${keyId}|${b64(noncePrefix)}|${segmentSize}`);

export function wrapKey(dataKey: Buffer, master: KeyringKey, noncePrefix: Buffer, segmentSize: number): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', master.key, iv).setAAD(wrapAad(master.id, noncePrefix, segmentSize));
  return Buffer.concat([iv, cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
}

export function unwrapKey(envelope: Envelope, keyring: Keyring): Buffer {
  const master = keyring.get(envelope.keyId);
  if (!master) throw new EnvelopeError(`master key "${envelope.keyId}" is not in the keyring`);
  const w = envelope.wrappedKey;
  try {
    const decipher = createDecipheriv('aes-256-gcm', master.key, w.subarray(0, 12)).setAAD(
      wrapAad(envelope.keyId, envelope.noncePrefix, envelope.segmentSize),
    );
    decipher.setAuthTag(w.subarray(44));
    return Buffer.concat([decipher.update(w.subarray(12, 44)), decipher.final()]);
  } catch {
    throw new EnvelopeError('the data key does not unwrap: wrong master key or altered metadata');
  }
}

/** A fresh data key and its envelope under the keyring's primary key. */
export function newEnvelope(keyring: Keyring, segmentSize = SEGMENT_SIZE): { envelope: Envelope; dataKey: Buffer } {
  const dataKey = randomBytes(32);
  const noncePrefix = randomBytes(8);
  const { primary } = keyring;
  return { dataKey, envelope: { keyId: primary.id, wrappedKey: wrapKey(dataKey, primary, noncePrefix, segmentSize), noncePrefix, segmentSize } };
}

/** Same data key, wrapped under the primary key: what rotation writes back, without touching the content. */
export function rewrapEnvelope(envelope: Envelope, keyring: Keyring): Envelope {
  const dataKey = unwrapKey(envelope, keyring);
  const { primary } = keyring;
  return { ...envelope, keyId: primary.id, wrappedKey: wrapKey(dataKey, primary, envelope.noncePrefix, envelope.segmentSize) };
}

function nonce(prefix: Buffer, counter: number): Buffer {
  if (counter > 0xffffffff) throw new EnvelopeError('object too large for one envelope');
  const n = Buffer.alloc(12);
  prefix.copy(n, 0);
  n.writeUInt32BE(counter, 8);
  return n;
}
// The last segment is marked in its AAD, so cutting an object at a segment boundary fails too.
const segmentAad = (last: boolean) => Buffer.from([1, last ? 1 : 0]);

function sealSegment(key: KeyObject, e: Envelope, counter: number, plain: Buffer, last: boolean): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, nonce(e.noncePrefix, counter)).setAAD(segmentAad(last));
  return Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

function openSegment(key: KeyObject, e: Envelope, counter: number, sealed: Buffer, last: boolean): Buffer {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce(e.noncePrefix, counter)).setAAD(segmentAad(last));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG)), decipher.final()]);
  } catch {
    throw new EnvelopeError(`stored object is corrupt or truncated (segment ${counter})`);
  }
}

/**
 * Cuts a stream into `size`-byte blocks, holding back the latest full block until it is known
 * whether more follows: the final block (possibly short or empty) is handed over with last = true.
 */
abstract class Segmenter extends Transform {
  private chunks: Buffer[] = [];
  private length = 0;
  private counter = 0;
  constructor(private readonly size: number) {
    super();
  }
  protected abstract seal(counter: number, block: Buffer, last: boolean): Buffer;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
    try {
      // Strictly more than one block: the held block is then certainly not the last.
      while (this.length > this.size) {
        const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.length);
        this.push(this.seal(this.counter++, all.subarray(0, this.size), false));
        const rest = all.subarray(this.size);
        this.chunks = [rest];
        this.length = rest.length;
      }
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      this.push(this.seal(this.counter++, Buffer.concat(this.chunks, this.length), true));
      this.chunks = [];
      done();
    } catch (err) {
      done(err as Error);
    }
  }
}

// The data key is imported once per object, not once per segment.
class EncryptStream extends Segmenter {
  private readonly key: KeyObject;
  constructor(dataKey: Buffer, private readonly envelope: Envelope) {
    super(envelope.segmentSize);
    this.key = createSecretKey(dataKey);
  }
  protected seal(counter: number, block: Buffer, last: boolean): Buffer {
    return sealSegment(this.key, this.envelope, counter, block, last);
  }
}

class DecryptStream extends Segmenter {
  private readonly key: KeyObject;
  constructor(dataKey: Buffer, private readonly envelope: Envelope) {
    super(envelope.segmentSize + TAG);
    this.key = createSecretKey(dataKey);
  }
  protected seal(counter: number, block: Buffer, last: boolean): Buffer {
    if (block.length < TAG) throw new EnvelopeError('stored object is truncated');
    return openSegment(this.key, this.envelope, counter, block, last);
  }
}

export const encryptStream = (dataKey: Buffer, envelope: Envelope): Transform => new EncryptStream(dataKey, envelope);
export const decryptStream = (dataKey: Buffer, envelope: Envelope): Transform => new DecryptStream(dataKey, envelope);

/** Whole-buffer encryption, for bodies already in memory (their stored length is then known). */
export function encryptBuffer(dataKey: Buffer, envelope: Envelope, plain: Buffer): Buffer {
  const size = envelope.segmentSize;
  const key = createSecretKey(dataKey);
  const out: Buffer[] = [];
  let counter = 0;
  for (let offset = 0; ; offset += size) {
    const last = plain.length - offset <= size;
    out.push(sealSegment(key, envelope, counter++, plain.subarray(offset, offset + size), last));
    if (last) break;
  }
  return Buffer.concat(out);
}

/** Stored size → plaintext size: every segment adds one tag, and there is always at least one segment. */
export function plaintextSize(storedSize: number, segmentSize: number): number {
  const segments = Math.max(1, Math.ceil(storedSize / (segmentSize + TAG)));
  return Math.max(0, storedSize - segments * TAG);
}
