import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** Encrypts endpoint secrets at rest: they must be readable again to sign, so they cannot be hashed. */
export interface SecretBox {
  seal(plaintext: string): string;
  open(sealed: string): string;
}

const VERSION = 'v1';

/** AES-256-GCM with a key derived (HKDF-SHA256) from WEBHOOK_SECRET_KEY. Sealed form: `v1.<iv>.<tag>.<ciphertext>` (base64url). */
export function createSecretBox(secretKey: string): SecretBox {
  if (Buffer.byteLength(secretKey) < 32) throw new Error('WEBHOOK_SECRET_KEY is required for webhooks (at least 32 bytes)');
  const key = Buffer.from(hkdfSync('sha256', secretKey, 'mediaflow', 'webhook-endpoint-secrets', 32));
  return {
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [VERSION, iv, cipher.getAuthTag(), data].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
    },
    open(sealed) {
      const [version, iv, tag, data] = sealed.split('.');
      if (version !== VERSION || !iv || !tag || data === undefined) throw new Error('not a sealed secret');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}
