import { readFileSync } from 'node:fs';
import type { Config } from './config.js';

/** TLS settings accepted by both `Connection.connect` (client) and `NativeConnection.connect` (worker). */
export interface TemporalTls {
  serverRootCACertificate?: Buffer;
  clientCertPair?: { crt: Buffer; key: Buffer };
}

/** The options both Temporal connection kinds share: one place, so the API and the worker cannot drift. */
export interface TemporalConnectionOptions {
  address: string;
  // false, not absent, when TLS is off: the SDK would otherwise switch TLS on by itself for an API key.
  tls: TemporalTls | false;
  apiKey?: string;
}

/**
 * Builds connection options from the config. Certificates are read here, once, at start-up, so a
 * missing file stops the process with its path instead of failing later on the first RPC.
 */
export function connectionOptions(
  temporal: Config['temporal'],
  readFile: (path: string) => Buffer = readFileSync,
): TemporalConnectionOptions {
  const options: TemporalConnectionOptions = { address: temporal.address, tls: false };
  if (temporal.apiKey) options.apiKey = temporal.apiKey;
  if (!temporal.tls) return options;
  const tls: TemporalTls = {};
  if (temporal.tlsCaPath) tls.serverRootCACertificate = readFile(temporal.tlsCaPath);
  if (temporal.tlsCertPath && temporal.tlsKeyPath) {
    tls.clientCertPair = { crt: readFile(temporal.tlsCertPath), key: readFile(temporal.tlsKeyPath) };
  }
  options.tls = tls;
  return options;
}
