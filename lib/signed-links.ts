import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Tokens of time-limited download links:
 * `v2.<key id>.<media id>.<expiry, unix seconds>.<issuer>.<HMAC of the rest>.<HMAC of the rest and the binding>`.
 * The issuer names the credential that minted the link (`k-<API key id>` or `u-<user id>`). The
 * first HMAC is checked before anything is looked up, so forged tokens cost nothing; the second
 * also covers a binding that is not in the token — the minting key's secret hash at minting — so a
 * link verifies only while its issuer is still what it was: a rotated key's links end with the old
 * secret. The first secret signs; every secret verifies, found by its id (a hash
 * prefix, so their order may change); secrets rotate by adding the new one first and dropping the
 * old one once its links have expired.
 */
export interface LinkClaims {
  mediaId: string;
  issuer: string;
  expiresAt: Date;
}

export interface ReadLink {
  mediaId: string;
  issuer: string;
  /** Whether the token was signed for this binding (constant time). */
  verify(binding: string): boolean;
}

export interface SignedLinks {
  sign(claims: LinkClaims, binding: string): string;
  /** A well-formed, unexpired token under a known secret, still to be verified against its issuer's binding; null for anything else. */
  read(token: string, now: Date): ReadLink | null;
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const ISSUER = new RegExp(`^[ku]-${UUID}$`);
const MEDIA_ID = new RegExp(`^${UUID}$`);
const keyId = (secret: string): string => createHash('sha256').update(secret).digest('hex').slice(0, 8);
const mac = (secret: string, text: string): string => createHmac('sha256', secret).update(text).digest('base64url');
const equal = (given: string, expected: string): boolean => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

export function createSignedLinks(secrets: string[]): SignedLinks {
  const byId = new Map(secrets.map((s) => [keyId(s), s]));
  return {
    sign({ mediaId, issuer, expiresAt }, binding) {
      const secret = secrets[0];
      if (!secret) throw new Error('DOWNLOAD_LINK_SECRETS is not set');
      if (!ISSUER.test(issuer)) throw new Error(`not a link issuer: ${issuer}`);
      const payload = `v2.${keyId(secret)}.${mediaId}.${Math.floor(expiresAt.getTime() / 1000)}.${issuer}`;
      return `${payload}.${mac(secret, payload)}.${mac(secret, `${payload}\n${binding}`)}`;
    },
    read(token, now) {
      const parts = token.split('.');
      if (parts.length !== 7 || parts[0] !== 'v2') return null;
      const [, kid, mediaId, exp, issuer, signature, bound] = parts as [string, string, string, string, string, string, string];
      const secret = byId.get(kid);
      if (!secret || !/^\d{1,12}$/.test(exp) || !ISSUER.test(issuer) || !MEDIA_ID.test(mediaId)) return null;
      const payload = parts.slice(0, 5).join('.');
      if (!equal(signature, mac(secret, payload))) return null;
      if (Number(exp) * 1000 <= now.getTime()) return null;
      return { mediaId, issuer, verify: (binding) => equal(bound, mac(secret, `${payload}\n${binding}`)) };
    },
  };
}
