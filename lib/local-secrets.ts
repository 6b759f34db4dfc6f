import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

// Secrets of a local platform (`npm start`, tests, a compose .env): generated at random the first
// time and kept by their owner, so no secret the platform trusts is ever a string written in code.

const key = () => randomBytes(32).toString('base64');
const text = () => randomBytes(33).toString('base64url');

/** Every secret the platform reads, with how a fresh value is made (keyrings: `<id>:<base64 of 32 bytes>`). */
export const SECRET_GENERATORS: Record<string, () => string> = {
  JWT_SECRET: text,
  DOWNLOAD_LINK_SECRETS: text,
  WEBHOOK_SECRET_KEY: text,
  STORAGE_MASTER_KEYS: () => `local1:${key()}`,
  TEMPORAL_CODEC_KEYS: () => `local1:${key()}`,
  PROVIDER_KEYS_MASTER_KEYS: () => `local1:${key()}`,
  // The object store's root credentials (the MinIO that `npm start` and the tests run).
  S3_ACCESS_KEY: () => `mediaflow-${randomBytes(6).toString('hex')}`,
  S3_SECRET_KEY: text,
};

/** A fresh value for every secret. */
export function generateSecrets(): Record<string, string> {
  return Object.fromEntries(Object.entries(SECRET_GENERATORS).map(([name, make]) => [name, make()]));
}

/**
 * The secrets kept in `file` (JSON, mode 0600), with any that are missing generated and saved, so a
 * restart reuses what the first start made: data encrypted then stays readable, tokens stay valid.
 */
export function loadOrCreateSecrets(file: string): Record<string, string> {
  let kept: Record<string, string> = {};
  if (fs.existsSync(file)) {
    const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${file} must hold a JSON object of secrets`);
    kept = parsed as Record<string, string>;
  }
  const missing = Object.keys(SECRET_GENERATORS).filter((name) => typeof kept[name] !== 'string' || kept[name] === '');
  if (missing.length) {
    kept = { ...kept, ...Object.fromEntries(missing.map((name) => [name, SECRET_GENERATORS[name]!()])) };
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // Written whole under a temporary name, then renamed: a crash never leaves half a file.
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(kept, null, 2)}\n`, { mode: 0o600 });
    fs.renameSync(tmp, file);
  }
  // Readable by its owner only, whatever umask or copy made it.
  fs.chmodSync(file, 0o600);
  return kept;
}
