import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Tokens of time-limited download links: `v1.<key id>.<media id>.<expiry, unix seconds>.<HMAC>`.
 * The first key signs; every key verifies, found by its id (a hash prefix of the key, so the
 * order of keys may change), so keys rotate by adding the new one first and dropping the old one
 * once its links have expired.
 */
export interface SignedLinks {
  sign(mediaId: string, expiresAt: Date): string;
  /** The media id of a valid, unexpired token; null for anything else. */
  verify(token: string, now: Date): string | null;
}

const keyId = (secret: string): string => createHash('sha256').update(secret).digest('hex').slice(0, 8);
const mac = (secret: string, payload: string): string => createHmac('sha256', secret).update(payload).digest('base64url');

export function createSignedLinks(secrets: string[]): SignedLinks {
  const byId = new Map(secrets.map((s) => [keyId(s), s]));
  return {
    sign(mediaId, expiresAt) {
      const secret = secrets[0];
      if (!secret) throw new Error('DOWNLOAD_LINK_SECRETS is not set');
      const payload = `v1.${keyId(secret)}.${mediaId}.${Math.floor(expiresAt.getTime() / 1000)}`;
      return `${payload}.${mac(secret, payload)}`;
    },
    verify(token, now) {
      const parts = token.split('.');
      if (parts.length !== 5 || parts[0] !== 'v1') return null;
      const [, kid, mediaId, exp, signature] = parts as [string, string, string, string, string];
      const secret = byId.get(kid);
      if (!secret || !/^\d{1,12}$/.test(exp)) return null;
      const expected = Buffer.from(mac(secret, parts.slice(0, 4).join('.')));
      const given = Buffer.from(signature);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
      if (Number(exp) * 1000 <= now.getTime()) return null;
      return mediaId;
    },
  };
}
