import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export interface Digest {
  md5: string;
  sha256: string;
  size: number;
}

/** MD5, SHA-256 and length of a byte sequence fed in pieces. */
export class Hasher {
  private readonly md5 = createHash('md5');
  private readonly sha256 = createHash('sha256');
  private size = 0;

  update(chunk: Buffer): void {
    this.size += chunk.length;
    this.md5.update(chunk);
    this.sha256.update(chunk);
  }

  digest(): Digest {
    return { md5: this.md5.copy().digest('hex'), sha256: this.sha256.copy().digest('hex'), size: this.size };
  }
}

/** A pass-through that hashes what flows through it. */
export class HashingStream extends Transform {
  private readonly hasher = new Hasher();

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hasher.update(chunk);
    done(null, chunk);
  }

  /** Valid once the stream has ended. */
  digest(): Digest {
    return this.hasher.digest();
  }
}
