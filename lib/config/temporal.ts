import { tmpdir } from 'node:os';
import type { MasterKey } from '../keyring.js';
import type { EnvReader } from './reader.js';

export interface TemporalConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  workflowBundlePath?: string;
  // TLS (mTLS when cert+key are given) and the Temporal Cloud API key: see lib/temporal-connection.ts.
  tls: boolean;
  tlsCaPath?: string;
  tlsCertPath?: string;
  tlsKeyPath?: string;
  apiKey?: string;
  /** Payload codec keyring (TEMPORAL_CODEC_KEYS, first = primary): see lib/payload-codec.ts. */
  codecKeys: MasterKey[];
  /** Origins (the Temporal Web UI) allowed to call the codec endpoint from a browser. */
  codecCorsOrigins: string[];
}

export interface WorkerConfig {
  tmpDir: string;
  maxConcurrentActivities: number;
}

export function readTemporal(r: EnvReader, { production }: { production: boolean }): TemporalConfig {
  // An API key implies TLS (Temporal Cloud); certificate paths without TLS, or half a client pair, are mistakes.
  const apiKey = r.optional('TEMPORAL_API_KEY');
  const tls = r.bool('TEMPORAL_TLS', apiKey !== undefined);
  const tlsCaPath = r.optional('TEMPORAL_TLS_CA_PATH');
  const tlsCertPath = r.optional('TEMPORAL_TLS_CERT_PATH');
  const tlsKeyPath = r.optional('TEMPORAL_TLS_KEY_PATH');
  if (!tls && (tlsCaPath || tlsCertPath || tlsKeyPath)) r.problem('TEMPORAL_TLS_*_PATH needs TEMPORAL_TLS=true');
  if (!tlsCertPath !== !tlsKeyPath) r.problem('TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH go together');
  return {
    address: r.string('TEMPORAL_ADDRESS', '127.0.0.1:7233'),
    namespace: r.string('TEMPORAL_NAMESPACE', 'default'),
    taskQueue: r.string('TEMPORAL_TASK_QUEUE', 'mediaflow'),
    workflowBundlePath: r.optional('WORKFLOW_BUNDLE_PATH'),
    tls,
    tlsCaPath,
    tlsCertPath,
    tlsKeyPath,
    apiKey,
    codecKeys: r.keyring('TEMPORAL_CODEC_KEYS', { production }),
    // Unset: the local dev server's Web UI; set and empty: none.
    codecCorsOrigins: r.list('TEMPORAL_CODEC_CORS_ORIGINS', ['http://localhost:8233']),
  };
}

export function readWorker(r: EnvReader): WorkerConfig {
  return {
    tmpDir: r.string('WORKER_TMP_DIR', tmpdir()),
    maxConcurrentActivities: r.int('WORKER_MAX_CONCURRENT_ACTIVITIES', 4, { min: 1, max: 1000 }),
  };
}
