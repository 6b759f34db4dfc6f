import type { Payload } from '@temporalio/common';
import { ValidationError } from '#lib/errors.js';
import { createPayloadCodec, PayloadDecryptionError } from '#lib/payload-codec.js';
import type { ApiDeps } from '../deps.js';

/** A payload as the codec server protocol writes it: bytes in base64. */
export interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

/** The codec server behind /api/v1/codec/*: the same codec the workers and the API use. */
export function createCodecService(deps: Pick<ApiDeps, 'config'>) {
  const codec = createPayloadCodec(deps.config.temporal);
  return {
    async encode(payloads: JsonPayload[]): Promise<JsonPayload[]> {
      return (await codec.encode(payloads.map(fromJson))).map(toJson);
    },
    async decode(payloads: JsonPayload[]): Promise<JsonPayload[]> {
      try {
        return (await codec.decode(payloads.map(fromJson))).map(toJson);
      } catch (err) {
        if (err instanceof PayloadDecryptionError) throw new ValidationError(err.message);
        throw err;
      }
    },
  };
}
