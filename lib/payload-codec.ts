import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type DataConverter, type Payload, type PayloadCodec } from '@temporalio/common';
// CommonJS package: under Node's ESM loader only its default export (module.exports) is reliable.
import proto from '@temporalio/proto';

const { temporal } = proto;
import type { Config } from './config.js';
import { createKeyring, type Keyring } from './keyring.js';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : undefined);

export class PayloadDecryptionError extends Error {
  override name = 'PayloadDecryptionError';
}

/**
 * AES-256-GCM over each whole payload (metadata included, as the protobuf the SDK would send), so
 * history holds no parameter, result or encoding in clear. The key id travels in the payload's
 * metadata: rotating means putting a new key first in TEMPORAL_CODEC_KEYS and keeping the old ones
 * as long as histories written with them are retained (the namespace's retention period).
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  constructor(private readonly keyring: Keyring) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const { id, key } = this.keyring.primary;
    return payloads.map((payload) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(utf8(id));
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      return {
        metadata: { [METADATA_ENCODING_KEY]: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(id) },
        data: Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      // Payloads from before the codec (or from a client without it) pass through as they are.
      if (text(payload.metadata?.[METADATA_ENCODING_KEY]) !== ENCRYPTED_ENCODING) return payload;
      const id = text(payload.metadata?.[KEY_ID_METADATA]) ?? '';
      const master = this.keyring.get(id);
      if (!master) throw new PayloadDecryptionError(`payload codec key "${id}" is not in TEMPORAL_CODEC_KEYS`);
      const data = Buffer.from(payload.data ?? new Uint8Array());
      try {
        const decipher = createDecipheriv('aes-256-gcm', master.key, data.subarray(0, 12)).setAAD(utf8(id));
        decipher.setAuthTag(data.subarray(data.length - 16));
        const plain = Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]);
        return temporal.api.common.v1.Payload.decode(plain) as Payload;
      } catch {
        throw new PayloadDecryptionError(`payload does not decrypt with key "${id}"`);
      }
    });
  }
}

export const createPayloadCodec = (t: Config['temporal']): AesGcmPayloadCodec =>
  new AesGcmPayloadCodec(createKeyring(t.codecKeys, 'TEMPORAL_CODEC_KEYS'));

/**
 * The data converter of every Temporal client and worker (payload codecs run outside the workflow
 * sandbox). Failure messages stay plain history fields: see docs/security.md.
 */
export const dataConverter = (t: Config['temporal']): DataConverter => ({ payloadCodecs: [createPayloadCodec(t)] });
