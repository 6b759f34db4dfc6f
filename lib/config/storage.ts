import type { MasterKey } from '../keyring.js';
import type { EnvReader } from './reader.js';

export interface S3Config {
  endpoint: URL;
  accessKey: string;
  secretKey: string;
  bucket: string;
  region: string;
  partSizeBytes: number;
  /** Master keyring wrapping each object's data key (STORAGE_MASTER_KEYS, first = primary): see lib/envelope.ts. */
  masterKeys: MasterKey[];
  /** Refuse objects stored without encryption instead of reading them as plaintext (written before encryption existed). */
  requireEncryption: boolean;
}

export function readS3(r: EnvReader, { production }: { production: boolean }): S3Config {
  return {
    endpoint: r.url('S3_ENDPOINT', 'http://127.0.0.1:9000'),
    // No default: `npm start` and the tests generate the credentials of the MinIO they run.
    accessKey: r.string('S3_ACCESS_KEY', ''),
    secretKey: r.string('S3_SECRET_KEY', ''),
    bucket: r.string('S3_BUCKET', 'mediaflow'),
    region: r.string('S3_REGION', 'us-east-1'),
    // A stream upload holds one multipart part in memory (lib/storage.ts): this bounds upload memory.
    partSizeBytes: r.size('S3_PART_SIZE_MB', '8', { unit: 'MiB', min: '5', max: '512' }),
    masterKeys: r.keyring('STORAGE_MASTER_KEYS', { production }),
    requireEncryption: r.bool('STORAGE_REQUIRE_ENCRYPTION', false),
  };
}
